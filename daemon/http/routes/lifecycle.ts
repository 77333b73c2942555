import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { actor } from '../auth.js';
import { describe } from '../openapi.js';
import { body, optString, reqString } from '../validate.js';

describe([
  ['get', '/jobs', 'Scheduled jobs: schedule, enabled, running, next run, last run and result', { tag: 'jobs' }],
  ['post', '/jobs/{name}/run', 'Run a job now (waits for a run in progress); returns the job with its result', { tag: 'jobs' }],
  ['post', '/license/check', 'Ask the activation server for a newer license: "nothing new", "installed" or "needs removals"', { tag: 'license' }],
  ['post', '/license/request', 'Exchange a 10-digit request key {requestKey} for a provisional license (valid 90 days) and install it', { body: 'json', tag: 'license' }],
  ['get', '/usage/report', 'The signed usage report (peaks per month); ?month=YYYY-MM for one month', { tag: 'usage' }],
  ['get', '/backups', 'Database backups in the data folder, newest first', { tag: 'backups' }],
  ['post', '/backups', 'Back up the database now (rotation keeps jobs.backup.keep)', { tag: 'backups' }],
]);

/** Jobs, renewal online, usage report, backups: thin adapters over core.jobs and core.lifecycle. */
export function lifecycleRoutes(core: Core): Router {
  const r = Router();
  const { lifecycle, jobs } = core;

  r.get('/jobs', (_req, res) => res.json({ jobs: jobs.list() }));
  r.post('/jobs/:name/run', async (req, res) => res.json(await jobs.runNow(String(req.params.name))));

  r.post('/license/check', async (req, res) => res.json(await lifecycle.renewal.check(actor(req))));
  r.post('/license/request', async (req, res) => {
    const key = reqString(body(req), 'requestKey', 40);
    res.json(await lifecycle.renewal.requestProvisional(key, actor(req)));
  });

  r.get('/usage/report', async (req, res) => {
    const month = optString(req.query as Record<string, unknown>, 'month', 7);
    res.json(await lifecycle.usage.report(month));
  });

  r.get('/backups', (_req, res) => res.json({ dir: lifecycle.backups.dir, backups: lifecycle.backups.list() }));
  r.post('/backups', async (_req, res) => res.status(201).json({ backup: await lifecycle.backupNow(), backups: lifecycle.backups.list() }));

  return r;
}
