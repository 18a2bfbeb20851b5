-- Node writes set "updatedAt" on every node of every run. While "updatedAt" was part of an index,
-- no node write could be a HOT update: each one added an entry to every index of the table. The
-- reconciler's scan of unfinished runs needs only "status" (few rows are PENDING or RUNNING).
DROP INDEX "WorkflowExecution_status_updatedAt_idx";

-- CreateIndex
CREATE INDEX "WorkflowExecution_status_idx" ON "WorkflowExecution"("status");

-- Leave room on each page so a run's node writes can stay on its page (HOT updates).
ALTER TABLE "WorkflowExecution" SET (fillfactor = 70);
