-- One-time sign-in tokens of two purposes (issue 12 part 3): the second step of a sign-in
-- (`second_factor`) and the e-mailed code that lifts a locked account (`unlock`).
ALTER TABLE mfa_challenges RENAME TO sign_in_tokens;
ALTER TABLE sign_in_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'second_factor';
