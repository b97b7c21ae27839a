DROP TABLE consent_totp_failures;
