DROP TABLE login_attempts;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE care;
DROP TABLE patient_profiles;
DROP TABLE doctor_profiles;
DROP TABLE users;
