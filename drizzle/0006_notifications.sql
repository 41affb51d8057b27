CREATE TYPE "public"."channel_kind" AS ENUM('email', 'webhook', 'slack', 'teams', 'sms');--> statement-breakpoint
CREATE TYPE "public"."delivery_status" AS ENUM('pending', 'sending', 'sent', 'failed', 'dead', 'superseded');--> statement-breakpoint
CREATE TYPE "public"."subscriber_audience" AS ENUM('public', 'deployment');--> statement-breakpoint
CREATE TYPE "public"."subscriber_state" AS ENUM('pending', 'active', 'disabled', 'unsubscribed');--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_seq" bigint NOT NULL,
	"subscriber_id" uuid NOT NULL,
	"page_id" uuid NOT NULL,
	"channel" "channel_kind" NOT NULL,
	"topic" text NOT NULL,
	"audience_key" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"status" "delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"response_code" integer,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_deliveries_idempotencyKey_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "notification_deliveries_event_subscriber" UNIQUE("event_seq","subscriber_id")
);
--> statement-breakpoint
CREATE TABLE "notification_outbox" (
	"event_seq" bigint PRIMARY KEY NOT NULL,
	"page_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"payloads" jsonb
);
--> statement-breakpoint
CREATE TABLE "subscribers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"page_id" uuid NOT NULL,
	"audience_kind" "subscriber_audience" NOT NULL,
	"deployment_id" uuid,
	"channel" "channel_kind" NOT NULL,
	"target" text NOT NULL,
	"component_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"group_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"state" "subscriber_state" DEFAULT 'pending' NOT NULL,
	"confirm_token_hash" text,
	"manage_token_hash" text,
	"signing_secrets" text[] DEFAULT '{}'::text[] NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"disabled_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incident_updates" ADD COLUMN "deliver_notifications" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_page_id_pages_id_fk" FOREIGN KEY ("page_id") REFERENCES "public"."pages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD CONSTRAINT "notification_outbox_page_id_pages_id_fk" FOREIGN KEY ("page_id") REFERENCES "public"."pages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_page_id_pages_id_fk" FOREIGN KEY ("page_id") REFERENCES "public"."pages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notification_deliveries_due" ON "notification_deliveries" USING btree ("next_attempt_at") WHERE "notification_deliveries"."status" in ('pending', 'failed', 'sending');--> statement-breakpoint
CREATE INDEX "notification_deliveries_subscriber_topic" ON "notification_deliveries" USING btree ("subscriber_id","topic","event_seq");--> statement-breakpoint
CREATE INDEX "notification_deliveries_page_created" ON "notification_deliveries" USING btree ("page_id","created_at");--> statement-breakpoint
CREATE INDEX "notification_outbox_unprocessed" ON "notification_outbox" USING btree ("event_seq") WHERE "notification_outbox"."processed_at" is null;--> statement-breakpoint
CREATE INDEX "subscribers_page_state" ON "subscribers" USING btree ("page_id","state");