CREATE TABLE "event_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_page_id_pages_id_fk";
--> statement-breakpoint
-- Added nullable, filled below in seq order, then made NOT NULL.
ALTER TABLE "events" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_page_id_pages_id_fk" FOREIGN KEY ("page_id") REFERENCES "public"."pages"("id") ON DELETE restrict ON UPDATE no action;
--> statement-breakpoint
-- The audit chain (server/db/audit-chain.ts). hash = hex SHA-256 of the UTF-8 text of
-- jsonb_build_array(seq, page_id, actor_type, actor_id, actor_name, action, entity_type, entity_id,
--   before::text, after::text, created_at as UTC 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"', prev_hash).
-- NOTE: the verifier restates this expression (eventHashSql); change both or neither.
CREATE FUNCTION "public"."statushub_event_hash"(e "public"."events") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    e.seq, e.page_id, e.actor_type, e.actor_id, e.actor_name, e.action, e.entity_type, e.entity_id,
    e.before::text, e.after::text, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.prev_hash
  )::text, 'UTF8')), 'hex')
$$;
--> statement-breakpoint
-- Chain the rows already there, in seq order (the first one after 64 zeros).
DO $$
DECLARE
  r "public"."events";
  prev text := repeat('0', 64);
BEGIN
  FOR r IN SELECT * FROM "public"."events" ORDER BY seq LOOP
    r.prev_hash := prev;
    prev := "public"."statushub_event_hash"(r);
    UPDATE "public"."events" SET prev_hash = r.prev_hash, hash = prev WHERE seq = r.seq;
  END LOOP;
END $$;
--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "prev_hash" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "hash" SET NOT NULL;--> statement-breakpoint
-- Every insert, whoever makes it: take the writers' lock (server/services/context.ts; re-entrant,
-- so free when transact() holds it), link to the newest row (or the newest checkpoint once
-- everything was pruned) and hash. A seq allocated before the lock and overtaken by another
-- writer is replaced by a fresh one, so seq order is always chain order.
CREATE FUNCTION "public"."statushub_events_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(727275);
  SELECT seq, hash INTO last_seq, last_hash FROM "public"."events" ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    SELECT seq, hash INTO last_seq, last_hash FROM "public"."event_checkpoints" ORDER BY seq DESC LIMIT 1;
  END IF;
  IF last_seq IS NOT NULL AND NEW.seq <= last_seq THEN
    NEW.seq := nextval(pg_get_serial_sequence('public.events', 'seq'));
  END IF;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := "public"."statushub_event_hash"(NEW);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "events_chain" BEFORE INSERT ON "events" FOR EACH ROW EXECUTE FUNCTION "public"."statushub_events_chain"();
--> statement-breakpoint
-- Events are never updated. They are deleted only by pruneEvents(): inside its transaction
-- (statushub.prune = 'on', set local) and only rows a checkpoint already covers.
-- NOTE: tamper evidence, not prevention: the table's owner or a superuser can disable triggers;
-- `npm run audit:verify` then shows what changed.
CREATE FUNCTION "public"."statushub_events_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('statushub.prune', true) = 'on'
     AND OLD.seq <= (SELECT max(seq) FROM "public"."event_checkpoints") THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'events are append-only: % of event % refused', TG_OP, OLD.seq
    USING ERRCODE = 'insufficient_privilege', HINT = 'prune with pruneEvents() (server/db/audit-chain.ts)';
END $$;
--> statement-breakpoint
CREATE TRIGGER "events_append_only" BEFORE UPDATE OR DELETE ON "events" FOR EACH ROW EXECUTE FUNCTION "public"."statushub_events_guard"();
--> statement-breakpoint
-- Checkpoints are written only by pruneEvents() and never changed.
CREATE FUNCTION "public"."statushub_checkpoints_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' AND current_setting('statushub.prune', true) = 'on' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'event checkpoints are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'prune with pruneEvents() (server/db/audit-chain.ts)';
END $$;
--> statement-breakpoint
CREATE TRIGGER "event_checkpoints_append_only" BEFORE INSERT OR UPDATE OR DELETE ON "event_checkpoints" FOR EACH ROW EXECUTE FUNCTION "public"."statushub_checkpoints_guard"();
--> statement-breakpoint
CREATE FUNCTION "public"."statushub_refuse_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER "events_no_truncate" BEFORE TRUNCATE ON "events" FOR EACH STATEMENT EXECUTE FUNCTION "public"."statushub_refuse_truncate"();
--> statement-breakpoint
CREATE TRIGGER "event_checkpoints_no_truncate" BEFORE TRUNCATE ON "event_checkpoints" FOR EACH STATEMENT EXECUTE FUNCTION "public"."statushub_refuse_truncate"();
