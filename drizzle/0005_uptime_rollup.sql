CREATE TABLE "component_status_days" (
	"component_id" text NOT NULL,
	"day" date NOT NULL,
	"up_ms" double precision DEFAULT 0 NOT NULL,
	"down_ms" double precision DEFAULT 0 NOT NULL,
	"maintenance_ms" double precision DEFAULT 0 NOT NULL,
	"worst_closed" "component_status",
	"last_status" "component_status",
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "component_status_days_component_id_day_pk" PRIMARY KEY("component_id","day")
);
--> statement-breakpoint
CREATE INDEX "incidents_page_status" ON "incidents" USING btree ("page_id","status","started_at");--> statement-breakpoint
CREATE INDEX "maintenances_page_status" ON "maintenances" USING btree ("page_id","status","scheduled_start");--> statement-breakpoint
-- Daily uptime kept on write (server/db/tables/uptime.ts, read by server/read/uptime.ts).
-- The status a component event leaves it in: null when deleted (or not a known status), as the
-- event replay it replaces treated it.
CREATE FUNCTION "public"."statushub_uptime_status"(action text, before jsonb, after jsonb) RETURNS "public"."component_status" LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN action = 'component.deleted' THEN NULL
    WHEN coalesce(after->>'status', before->>'status') IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')
      THEN coalesce(after->>'status', before->>'status')::"public"."component_status" END
$$;
--> statement-breakpoint
-- The worse of two statuses, nulls ignored (the order of worstComponentStatus in server/domain/vocabulary.ts).
CREATE FUNCTION "public"."statushub_worse_status"(a "public"."component_status", b "public"."component_status") RETURNS "public"."component_status" LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
    WHEN array_position(ARRAY['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage']::"public"."component_status"[], b)
       > array_position(ARRAY['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage']::"public"."component_status"[], a)
      THEN b ELSE a END
$$;
--> statement-breakpoint
-- A component holds `status` from `at` on: close what it held before into the day it ends in
-- (time since the previous change that day, or since midnight when the previous change was on an
-- earlier day), then open `status`. Time never runs backwards: a change recorded before the
-- latest one counts from the latest one. Writers are serialised by the events chain lock.
CREATE FUNCTION "public"."statushub_uptime_apply"(p_component text, p_status "public"."component_status", p_at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  prev "public"."component_status_days";
  has_prev boolean;
  v_at timestamptz := p_at;
  v_day date;
  v_from timestamptz;
  v_held "public"."component_status";
  v_ms float8;
BEGIN
  SELECT * INTO prev FROM "public"."component_status_days" d WHERE d.component_id = p_component ORDER BY d.day DESC LIMIT 1 FOR UPDATE;
  has_prev := FOUND;
  IF has_prev AND v_at < prev.last_at THEN v_at := prev.last_at; END IF;
  v_day := (v_at AT TIME ZONE 'UTC')::date;
  IF has_prev AND prev.day = v_day THEN
    v_from := prev.last_at;
    v_held := prev.last_status;
  ELSE
    v_from := v_day::timestamp AT TIME ZONE 'UTC';
    v_held := CASE WHEN has_prev THEN prev.last_status END;
    INSERT INTO "public"."component_status_days" (component_id, day, last_at) VALUES (p_component, v_day, v_from);
  END IF;
  v_ms := extract(epoch FROM (v_at - v_from)) * 1000;
  UPDATE "public"."component_status_days" d SET
    up_ms = d.up_ms + CASE WHEN v_ms > 0 AND v_held IN ('operational', 'degraded_performance') THEN v_ms ELSE 0 END,
    down_ms = d.down_ms + CASE WHEN v_ms > 0 AND v_held IN ('partial_outage', 'major_outage') THEN v_ms ELSE 0 END,
    maintenance_ms = d.maintenance_ms + CASE WHEN v_ms > 0 AND v_held = 'under_maintenance' THEN v_ms ELSE 0 END,
    worst_closed = CASE WHEN v_ms > 0 THEN "public"."statushub_worse_status"(d.worst_closed, v_held) ELSE d.worst_closed END,
    last_status = p_status,
    last_at = v_at
  WHERE d.component_id = p_component AND d.day = v_day;
END $$;
--> statement-breakpoint
CREATE FUNCTION "public"."statushub_uptime_on_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "public"."statushub_uptime_apply"(NEW.entity_id, "public"."statushub_uptime_status"(NEW.action, NEW.before, NEW.after), NEW.created_at);
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Whoever inserts a component status event (the services, the demo seed, a bulk load), in the
-- same transaction. The events rows themselves are untouched.
CREATE TRIGGER "events_uptime" AFTER INSERT ON "public"."events" FOR EACH ROW
  WHEN (NEW.entity_type = 'component' AND NEW.action IN ('component.created', 'component.updated', 'component.status_changed', 'component.deleted'))
  EXECUTE FUNCTION "public"."statushub_uptime_on_event"();
--> statement-breakpoint
-- Backfill: replay the existing events once, in seq order, exactly as the trigger would have.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT entity_id, action, before, after, created_at FROM "public"."events"
    WHERE entity_type = 'component' AND action IN ('component.created', 'component.updated', 'component.status_changed', 'component.deleted')
    ORDER BY seq LOOP
    PERFORM "public"."statushub_uptime_apply"(r.entity_id, "public"."statushub_uptime_status"(r.action, r.before, r.after), r.created_at);
  END LOOP;
END $$;
