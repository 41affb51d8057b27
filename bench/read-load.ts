import autocannon from 'autocannon';

/**
 * One autocannon run, in its own process (bench/read.ts pins it to a core of its own): the
 * options as JSON in argv[2], the result's figures as JSON on stdout.
 */
const options = JSON.parse(process.argv[2]!) as autocannon.Options;
const result = await autocannon({ ...options, excludeErrorStats: false });
const codes = result.statusCodeStats as Record<string, { count: number }> | undefined;
console.log(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(codes ?? {}).map(([k, v]) => [k, v.count])),
  }),
);
