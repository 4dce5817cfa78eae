-- Run once by the postgres image on an empty volume: the marketplace gets a database of its own
-- (Prefect's and the marketplace's Alembic histories would collide in one).
CREATE DATABASE skillworks OWNER prefect;
