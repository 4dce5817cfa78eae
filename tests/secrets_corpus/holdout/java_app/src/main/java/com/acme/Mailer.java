package com.acme;

import java.util.Properties;
import javax.mail.Session;

public final class Mailer {
    private static final String API_KEY = "⟦generic-api-token⟧";
    private static final String SMTP_USER = "alerts@acme.example";
    private static final String PASSWORD_PROPERTY = ⟦~"mail.smtp.password"⟧;

    static Session session() {
        Properties props = new Properties();
        props.put("mail.smtp.host", "smtp.acme.example");
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.password", "⟦password⟧");
        return Session.getInstance(props);
    }
}
