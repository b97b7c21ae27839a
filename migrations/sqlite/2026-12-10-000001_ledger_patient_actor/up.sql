-- The patient's access log (issue 15): entries filed under a patient, by actor and action, so
-- that the patient's own reads (most of their entries) are skipped by the index instead of
-- read and filtered one by one.
CREATE INDEX ledger_patient_actor ON ledger (patient_id, actor, action, seq);
