-- Erasure of a client on request (GDPR art. 17): their appointments are kept
-- for the business's statistics but moved to one anonymous client per
-- business (no name, no number), marked here; listings and searches skip it.
ALTER TABLE clients ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1));
