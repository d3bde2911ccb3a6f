// The web UI in a real browser (Debian's Chromium through playwright-core) against a server on
// PostgreSQL: every page, a run watched to its end live, cancel, retry, pause, a dead letter.
// Screenshots go to packages/dashboard/artifacts/screenshots (git-ignored).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FlowDefinition, FlowOrchestrator, StepHandler } from '@floworch/core';
import { StepResults, silentLogger } from '@floworch/core';
import type { PostgresStorage } from '@floworch/postgresql';
import { BUILT_IN_SCHEMES, signWebhook } from '@floworch/webhook-hardening';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type ServedDashboard, serveDashboard } from '../src/index.js';
import { isolatedSchema, pgSource, pgUrl, sleep, startOrchestrator, storageOn } from './support.js';

const CHROMIUM = process.env.FLOWORCH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));
const CREDENTIALS = { username: 'ops', password: 'browser-pw' };

const skipReason = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set FLOWORCH_CHROMIUM)`
  : !pgUrl
    ? `no PostgreSQL: ${pgSource}`
    : null;

if (skipReason) {
  console.warn(`dashboard browser tests skipped: ${skipReason}`);
  describe('dashboard in a browser', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
} else {
  const flows: FlowDefinition[] = [
    {
      id: 'shipping',
      name: 'Shipping',
      steps: {
        pack: { type: 'Work' },
        label: { type: 'Work', runAfter: { pack: ['Succeeded'] } },
        dispatch: { type: 'Work', runAfter: { label: ['Succeeded'] } },
      },
    },
    {
      id: 'billing',
      name: 'Billing',
      steps: {
        invoice: { type: 'Quick' },
        charge: { type: 'Charge', runAfter: { invoice: ['Succeeded'] } },
      },
    },
    { id: 'long-job', name: 'LongJob', steps: { hang: { type: 'Hang' } } },
    {
      id: 'reports',
      name: 'Reports',
      triggers: {
        manual: { type: 'Manual' },
        nightly: { type: 'Cron', inputs: { cronExpression: '0 2 * * *' } },
      },
      steps: { build: { type: 'Quick' } },
    },
    {
      id: 'partner',
      name: 'Partner',
      triggers: {
        hook: {
          type: 'Webhook',
          inputs: { webhookSlug: 'partner', webhookSignatureScheme: 'GitHub', webhookHmacKey: 'partner-key' },
        },
      },
      steps: { store: { type: 'Quick' } },
    },
  ];
  let chargeWorks = false;
  const handlers: Record<string, StepHandler> = {
    Work: async () => {
      await sleep(400);
      return 'ok';
    },
    Quick: () => 'ok',
    Charge: () => (chargeWorks ? { charged: true } : StepResults.failed('card declined')),
    Hang: ({ signal }) =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      ),
  };

  describe(`dashboard in a browser (Chromium, PostgreSQL ${pgSource})`, () => {
    let drop: () => Promise<void>;
    let storage: PostgresStorage;
    let orchestrator: FlowOrchestrator;
    let served: ServedDashboard;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];

    const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
    const open = async (hash: string) => {
      await page.goto(`${served.url}${hash}`);
      await page.locator('main h1').waitFor();
    };
    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${served.url}api/${path}`, {
        headers: { authorization: `Basic ${Buffer.from('ops:browser-pw').toString('base64')}` },
      });
      return (await response.json()) as T;
    };

    beforeAll(async () => {
      await mkdir(SHOTS, { recursive: true });
      const isolated = await isolatedSchema('dash_ui');
      drop = isolated.drop;
      storage = await storageOn(isolated.schema);
      orchestrator = await startOrchestrator(storage, flows, handlers);
      const dashboard = createDashboard({
        client: orchestrator.client,
        auth: { basic: CREDENTIALS },
        webhooks: { security: { rejectionStore: storage.webhookRejections } },
        events: { pollIntervalMs: 250 },
        logger: silentLogger,
      });
      served = await serveDashboard(dashboard, { port: 0 });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      context = await browser.newContext({
        httpCredentials: CREDENTIALS,
        viewport: { width: 1280, height: 900 },
      });
      page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('dialog', (dialog) => void dialog.accept());
      // Some history to look at.
      for (let i = 0; i < 3; i++) await orchestrator.trigger('shipping', { data: { order: i } });
      const failed = await orchestrator.trigger('billing', { data: { amount: 9 } });
      await orchestrator.client.waitForRun(failed.runId!, { timeoutMs: 10_000 });
    });

    afterAll(async () => {
      await browser?.close();
      await served?.close();
      await orchestrator?.stop();
      await storage?.close();
      await drop?.();
    });

    it('overview: counters, the runs chart and active runs', async () => {
      await open('#/');
      const stats = await api<{ totalFlows: number }>('runs/stats');
      await expect
        .poll(() => page.locator('[data-stat="totalFlows"]').textContent())
        .toBe(String(stats.totalFlows));
      await expect.poll(() => page.locator('[data-stat="failedToday"]').textContent()).toBe('1');
      const chart = page.getByRole('img', { name: /Runs per hour: \d+ started/ });
      expect(await chart.count()).toBe(1);
      expect(await page.locator('.live[data-live="live"]').count()).toBe(1);
      await shot('overview');
    });

    it('runs: filters, search and paging', async () => {
      await open('#/runs?take=2');
      await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(2);
      await expect.poll(() => page.locator('.pager span').textContent()).toBe('1–2 of 4');
      await page.getByRole('button', { name: 'Next →' }).click();
      await expect.poll(() => page.locator('.pager span').textContent()).toBe('3–4 of 4');
      await page.getByLabel('Status').selectOption('Failed');
      await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(1);
      expect(await page.locator('table.runs tbody tr').first().textContent()).toContain('Billing');
      await page.getByLabel('Status').selectOption('');
      await page.getByLabel('Search').fill('card declined');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(1);
      await shot('runs');
    });

    it('flows: trigger a run with JSON and watch it finish live on its page', async () => {
      await open('#/flows');
      const card = page.locator('article[data-flow]', { hasText: 'Shipping' });
      await card.getByLabel('Data (JSON)').fill('{"order": 42, "express": true}');
      await card.getByRole('button', { name: 'Trigger run' }).click();
      await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
      // The page is never reloaded from here on: the marker survives only without a reload.
      await page.evaluate(() => {
        (globalThis as unknown as { marker: number }).marker = 1;
      });
      await page.locator('h1 .badge', { hasText: 'Running' }).waitFor({ timeout: 10_000 });
      await page.locator('.node[data-step="pack"][data-status="Succeeded"]').waitFor({ timeout: 10_000 });
      await shot('run-live');
      await page.locator('h1 .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 15_000 });
      await page.locator('.node[data-step="dispatch"][data-status="Succeeded"]').waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);
      expect(await page.locator('.events li[data-event="run.completed"]').count()).toBe(1);
      expect(await page.locator('pre', { hasText: '"express": true' }).count()).toBeGreaterThan(0);
      expect(await page.getByRole('img', { name: /Timeline of 3 attempts/ }).count()).toBe(1);
      await shot('run-finished');
    });

    it('flows: disable and enable, Mermaid source', async () => {
      await open('#/flows');
      const card = page.locator('article[data-flow]', { hasText: 'Reports' });
      await card.getByRole('button', { name: 'Disable' }).click();
      await card.getByText('Disabled', { exact: true }).waitFor();
      await card.getByRole('button', { name: 'Enable' }).click();
      await card.getByText('Enabled', { exact: true }).waitFor();
      await card.getByText('Mermaid diagram source').click();
      await card.locator('pre.mermaid-source', { hasText: 'flowchart TD' }).waitFor();
      await shot('flows');
    });

    it('run: cancel a running run', async () => {
      const run = await orchestrator.trigger('long-job');
      await open(`#/runs/${run.runId}`);
      await page.locator('.node[data-step="hang"][data-status="Running"]').waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await page.locator('h1 .badge', { hasText: 'Cancelled' }).waitFor({ timeout: 10_000 });
      expect(await page.getByRole('button', { name: 'Cancel run' }).isDisabled()).toBe(true);
      await shot('run-cancelled');
    });

    it('run: retry a failed step', async () => {
      const failed = (await api<{ runs: Array<{ id: string }> }>('runs?status=Failed')).runs[0]!;
      await open(`#/runs/${failed.id}`);
      await page.locator('tr[data-step="charge"]', { hasText: 'card declined' }).waitFor();
      chargeWorks = true;
      await page.getByRole('button', { name: 'Retry step charge' }).click();
      await page.locator('h1 .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 10_000 });
      await page.locator('.node[data-step="charge"][data-status="Succeeded"]').waitFor();
      expect(await page.locator('tr[data-step="charge"] td').nth(2).textContent()).toBe('2');
      await shot('run-retried');
    });

    it('schedules: pause, resume, and a refused cron with its reason', async () => {
      await open('#/schedules');
      const row = page.locator('tr[data-job]', { hasText: 'Reports' });
      await row.getByRole('button', { name: 'Pause' }).click();
      await row.locator('[data-state="paused"]').waitFor();
      const listed = await api<{ schedules: Array<{ isPaused: boolean }> }>('schedules');
      expect(listed.schedules[0]!.isPaused).toBe(true);
      await row.getByLabel('Cron expression').fill('61 * * * *');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.locator('.notice-error', { hasText: /Save cron failed: .*cron/i }).waitFor();
      await shot('schedules');
      await row.getByRole('button', { name: 'Resume' }).click();
      await row.locator('[data-state="active"]').waitFor();
    });

    it('webhooks: read a dead letter', async () => {
      const body = '{"event":"forged-payment"}';
      const forged = await fetch(`${served.url}api/webhook/partner`, {
        method: 'POST',
        headers: signWebhook(BUILT_IN_SCHEMES.GitHub!, 'wrong-key', { body }),
        body,
      });
      expect(forged.status).toBe(401);
      await open('#/webhooks');
      await page.locator('.reasons', { hasText: 'digest_mismatch' }).waitFor();
      await page.getByLabel('Show').selectOption('rejected');
      const open1 = page.getByRole('button', { name: /^Open delivery / }).first();
      await open1.click();
      const letter = page.locator('.dead-letter');
      await letter.locator('[data-reason="digest_mismatch"]').waitFor();
      expect(await letter.locator('pre.body-excerpt').textContent()).toContain('forged-payment');
      expect(await letter.textContent()).toContain('[redacted]'); // the signature header
      await shot('webhooks');
    });

    it('keyboard: the main navigation works without a mouse and focus moves to the page heading', async () => {
      await open('#/');
      await page.getByRole('link', { name: 'Schedules' }).focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(/#\/schedules$/);
      await expect
        .poll(() =>
          page.evaluate(
            () =>
              (globalThis as unknown as { document: { activeElement?: { tagName: string } } }).document
                .activeElement?.tagName,
          ),
        )
        .toBe('H1');
      expect(await page.getByRole('link', { name: 'Schedules' }).getAttribute('aria-current')).toBe('page');
      expect(pageErrors).toEqual([]);
    });
  });
}
