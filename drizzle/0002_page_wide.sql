ALTER TABLE "incidents" ADD COLUMN "page_wide" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "maintenances" ADD COLUMN "page_wide" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Until now "affects no component" meant "every audience": keep what was published as it was.
UPDATE "incidents" SET "page_wide" = NOT EXISTS (SELECT 1 FROM "incident_components" ic WHERE ic."incident_id" = "incidents"."id");--> statement-breakpoint
UPDATE "maintenances" SET "page_wide" = NOT EXISTS (SELECT 1 FROM "maintenance_components" mc WHERE mc."maintenance_id" = "maintenances"."id");
