-- Node writes set "updatedAt" on every node of every run. While "updatedAt" was part of an index,
-- no node write could be a HOT update: each one added an entry to every index of the table. The
-- reconciler's scan of unfinished runs needs only "status" (few rows are PENDING or RUNNING).
DROP INDEX "WorkflowExecution_status_updatedAt_idx";

-- CreateIndex
CREATE INDEX "WorkflowExecution_status_idx" ON "WorkflowExecution"("status");

-- Leave room on each page so a run's node writes can stay on its page (HOT updates).
ALTER TABLE "WorkflowExecution" SET (fillfactor = 70);

-- Each node write reads the run's node results and writes them back one node longer; past about
-- 2 kB PostgreSQL compresses them, so long runs decompressed and recompressed them on every node.
-- lz4 does both several times faster than the default pglz. Servers built without lz4 keep pglz.
DO $$
BEGIN
  ALTER TABLE "WorkflowExecution"
    ALTER COLUMN "nodeResults" SET COMPRESSION lz4,
    ALTER COLUMN "definitionSnapshot" SET COMPRESSION lz4,
    ALTER COLUMN "triggerEvent" SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'lz4 compression is not available (%); node results stay compressed with pglz', SQLERRM;
END
$$;
