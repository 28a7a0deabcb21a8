-- CreateIndex
-- The admins' audit log filters by action (or a group: LIKE 'migration.%') and pages newest
-- first by (created_at, id) over every organization.
CREATE INDEX "audit_events_action_created_at_idx" ON "audit_events"("action", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_created_at_id_idx" ON "audit_events"("created_at", "id");
