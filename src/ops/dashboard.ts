import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initServer } from '@ts-rest/express';
import express, { type Request, type Router } from 'express';
import helmet from 'helmet';
import { dashboardContract, type DashboardOverview } from '../../contract/index.js';
import { GatewayError } from '../chat/errors.js';
import type { ChatUpstream } from '../chat/types.js';
import { VERSION } from '../version.js';
import type { AccountAdmin } from './account-admin.js';
import { accountHealth } from './routes.js';
import type { FailedRequest, MinuteBucket, TrafficLog } from './traffic.js';

// The dashboard: a page (GET /dashboard, its assets beside it, everything served from here, no
// CDN) and the JSON it reads (/dashboard/api/…, in the contract). Reading needs an API key;
// managing accounts also needs ADMIN_KEY in `x-admin-key`, and is POST only, so neither a link
// nor a cross-site form can change anything.

export interface DashboardDeps {
  upstream: ChatUpstream;
  traffic: TrafficLog;
  /** With several replicas: everyone's traffic added up. */
  allTraffic?: () => Promise<{ minutes: MinuteBucket[]; failures: FailedRequest[] }>;
  /** Absent: ADMIN_KEY is unset, and the page is read-only. */
  admin?: { key: string; accounts: AccountAdmin };
  settings: DashboardOverview['settings'];
  startedAt: number;
}

const ENABLE_ADMIN = 'Set ADMIN_KEY (a secret of your own) and restart to add, remove and refresh accounts from the dashboard.';

const digest = (text: string) => createHash('sha256').update(text).digest();

function presentedKey(req: Request): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const key = bearer ?? (req.headers['x-api-key'] as string | undefined) ?? '';
  return key;
}

/** The JSON routes of the dashboard. */
export function createDashboardRouter(deps: DashboardDeps) {
  const s = initServer();

  /** Throws unless the request carries ADMIN_KEY; returns the account manager. */
  const admin = (req: Request): AccountAdmin => {
    if (!deps.admin) throw new GatewayError('permission', `Account management is off on this gateway. ${ENABLE_ADMIN}`, { code: 'admin_disabled' });
    const presented = req.headers['x-admin-key'];
    if (typeof presented !== 'string' || !timingSafeEqual(digest(presented), digest(deps.admin.key))) {
      throw new GatewayError('permission', 'Managing accounts needs the admin key (ADMIN_KEY) in the x-admin-key header.', { code: 'admin_key_invalid' });
    }
    return deps.admin.accounts;
  };

  return s.router(dashboardContract, {
    overview: async ({ req }) => {
      const key = presentedKey(req);
      return {
        status: 200,
        body: {
          version: VERSION,
          started_at: new Date(deps.startedAt).toISOString(),
          uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
          admin: deps.admin ? { enabled: true, how: 'Send ADMIN_KEY as x-admin-key to add, remove and refresh accounts.' } : { enabled: false, how: ENABLE_ADMIN },
          connect: { base_url: `${req.protocol}://${req.headers.host ?? 'localhost:8989'}`, key_hint: key ? `${key.slice(0, Math.min(4, Math.floor(key.length / 4)))}…` : '' },
          settings: deps.settings,
          accounts: deps.upstream.accounts().map(accountHealth),
        },
      };
    },
    traffic: async () => ({ status: 200, body: deps.allTraffic ? await deps.allTraffic() : { minutes: deps.traffic.lastHour(), failures: deps.traffic.failures() } }),
    startDeviceLogin: async ({ req, body }) => ({ status: 200, body: await admin(req).startDevice(body.start_url, body.region) }),
    startSocialLogin: async ({ req, body }) => ({ status: 200, body: admin(req).startSocial(body.idp) }),
    login: async ({ req, params }) => ({ status: 200, body: admin(req).state(params.id) }),
    finishSocialLogin: async ({ req, params, body }) => ({ status: 200, body: await admin(req).finishSocial(params.id, body.callback) }),
    importAccount: async ({ req, body }) => {
      const id = await admin(req).importRefreshToken(body);
      return { status: 200, body: { account_id: id, done: 'Checked by refreshing it once, and saved. The gateway serves with it within seconds.' } };
    },
    refreshAccount: async ({ req, params }) => {
      await admin(req).refresh(params.id);
      return { status: 200, body: { account_id: params.id, done: 'Its token was renewed, and Kiro asked again for its models and credits.' } };
    },
    removeAccount: async ({ req, params }) => {
      const path = admin(req).remove(params.id);
      return { status: 200, body: { account_id: params.id, done: `Removed ${path}; the gateway stops using it within seconds.` } };
    },
  });
}

/** The folder of the page's own files: `dashboard/` at the package root, found from here (src/ or dist/src/). */
function pageFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'dashboard', 'index.html')) && existsSync(join(dir, 'package.json'))) return join(dir, 'dashboard');
    dir = dirname(dir);
  }
  throw new Error('the dashboard page (dashboard/index.html) is missing from the package');
}

/** Strict: the page loads nothing from anywhere else, and runs no inline script. */
const pageHeaders = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
});

/** GET /dashboard and its assets (no key needed: they hold no data). */
export function dashboardPage(): Router {
  const folder = pageFolder();
  const require = createRequire(import.meta.url);
  const uplot = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const router = express.Router();
  router.use(['/dashboard', '/dashboard/assets'], pageHeaders);
  const file = (path: string, type: string) => (_req: Request, res: express.Response) => {
    res.type(type).setHeader('cache-control', 'no-cache');
    res.sendFile(path);
  };
  router.get('/dashboard', file(join(folder, 'index.html'), 'html'));
  router.get('/dashboard/assets/app.js', file(join(folder, 'app.js'), 'application/javascript'));
  router.get('/dashboard/assets/app.css', file(join(folder, 'app.css'), 'css'));
  router.get('/dashboard/assets/uplot.js', file(join(uplot, 'uPlot.iife.min.js'), 'application/javascript'));
  router.get('/dashboard/assets/uplot.css', file(join(uplot, 'uPlot.min.css'), 'css'));
  return router;
}

/** The page and its assets: reachable without a key. */
export const isDashboardPage = (path: string): boolean => path === '/dashboard' || path === '/dashboard/' || path.startsWith('/dashboard/assets/');
