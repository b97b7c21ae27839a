DELETE FROM sign_in_tokens WHERE purpose <> 'second_factor';
ALTER TABLE sign_in_tokens DROP COLUMN purpose;
ALTER TABLE sign_in_tokens RENAME TO mfa_challenges;
