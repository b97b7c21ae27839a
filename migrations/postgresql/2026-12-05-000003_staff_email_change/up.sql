-- Staff cannot quietly redirect a patient's consent codes (issue 11 part 6): when staff change
-- an account's e-mail, the time is kept until the owner confirms the new address; consent codes
-- are not e-mailed to it for 24 hours unless the owner confirmed.
ALTER TABLE users ADD COLUMN email_changed_by_staff_at TIMESTAMP;
