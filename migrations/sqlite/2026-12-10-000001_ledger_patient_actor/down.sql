DROP INDEX ledger_patient_actor;
