import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DocumentCache } from '../realtime/documents.js';
import type { LiveHub } from '../realtime/hub.js';

/** Prometheus metrics at /metrics: process figures plus the live hub's counters. */
export function createMetrics(hub: LiveHub, documents: DocumentCache, sseStreams: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, read: () => number) => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(now - reported);
        reported = now;
      },
    });
  };
  counter('statushub_live_events_total', 'Events the live hub has processed.', () => hub.metrics.eventsProcessed);
  counter('statushub_live_payload_builds_total', 'Live payload executions: one per audience and document with subscribers, per event.', () => hub.metrics.payloadBuilds);
  counter('statushub_live_frames_total', 'Frames written to live subscribers.', () => hub.metrics.framesWritten);
  counter('statushub_live_resyncs_total', 'Resync signals sent.', () => hub.metrics.resyncs);
  counter('statushub_live_dropped_total', 'Subscribers closed for being too slow.', () => hub.metrics.droppedSlowSubscribers);
  counter('statushub_live_document_parses_total', 'Distinct subscription documents parsed and validated.', () => documents.parses);
  new Gauge({ name: 'statushub_live_subscribers', help: 'Open live subscriptions.', registers: [registry], collect() { this.set(hub.subscriberCount()); } });
  new Gauge({ name: 'statushub_sse_streams', help: 'Open SSE streams.', registers: [registry], collect() { this.set(sseStreams()); } });
  return { render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }) };
}
