"""Django settings for mysite."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = '⟦django-secret-key⟧'

DEBUG = False
ALLOWED_HOSTS = ["mysite.example.com"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "mysite",
        "USER": "mysite",
        "PASSWORD": "⟦password⟧",
        "HOST": "db.internal",
        "PORT": "5432",
    },
    "analytics": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "analytics",
        "PASSWORD": ⟦~os.environ["ANALYTICS_DB_PASSWORD"]⟧,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
]
PASSWORD_HASHERS = [⟦~"django.contrib.auth.hashers.Argon2PasswordHasher"⟧]
PASSWORD_RESET_TIMEOUT = 259200

EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = "⟦sendgrid-key⟧"

SENTRY_DSN = "⟦~https://3f1c2b7d9e4a4f0b8c6d5e2a1b0c9d8e@o412345.ingest.sentry.io/5512345⟧"
CSRF_COOKIE_NAME = ⟦~"csrftoken"⟧
SESSION_COOKIE_AGE = 1209600
STATIC_URL = "/static/"
