--
-- PostgreSQL database cluster dump
--
SET default_transaction_read_only = off;

CREATE ROLE app;
ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD '⟦password⟧';
CREATE ROLE readonly;
ALTER ROLE readonly WITH LOGIN PASSWORD ⟦~NULL⟧;

COPY public.accounts (id, email, encrypted_password, confirmation_token) FROM stdin;
1	ada@example.org	⟦bcrypt-hash⟧	\N
2	bob@example.org	⟦bcrypt-hash⟧	\N
3	carol@example.org	⟦bcrypt-hash⟧	⟦~\N⟧
\.
