/**
 * `ray-ts dashboard`: the URL of the cluster's dashboard (the head's job API port, 8265 by
 * default), with the cluster's token in its fragment (`#token=...`), which the browser keeps and
 * never sends to the server: the page reads it, keeps it for the tab, and removes it from the
 * address bar. (Ray's `ray dashboard` forwards a remote cluster's port; here the head serves the
 * page itself, so the command only says where, as `ray get-auth-token` says what.)
 */
import type { Command } from 'commander';
import { clientAuth } from './cluster/auth-token.js';
import { jobApi, type CliContext } from './cli-job.js';

/** The dashboard's URL for `jobApiUrl`, with `token` in its fragment (none: a cluster without authentication). */
export function dashboardUrl(jobApiUrl: string, token: string | undefined): string {
  const base = jobApiUrl.replace(/\/+$/, '') + '/';
  return token === undefined ? base : `${base}#token=${encodeURIComponent(token)}`;
}

export function registerDashboardCommand(program: Command, ctx: CliContext): void {
  program
    .command('dashboard')
    .description(
      "print the URL of the cluster's dashboard, with the cluster token in its #fragment (open it in a browser; keep it private)",
    )
    .option('--address <address>', 'the head (HOST:PORT of its GCS, or http://HOST:PORT of its dashboard)')
    .option('--print-url', 'print the URL alone (for scripts)')
    .action(async (f: { address?: string; printUrl?: boolean }) => {
      const url = await jobApi(ctx, f.address);
      const auth = clientAuth();
      if (auth.kind === 'none')
        ctx.fail(
          `no cluster token here (looked in ${auth.looked}): set RAY_TS_AUTH_TOKEN to the cluster's token ('ray-ts get-auth-token' on the head prints it).`,
        );
      const full = dashboardUrl(url, auth.kind === 'token' ? auth.token : undefined);
      if (f.printUrl) console.log(full);
      else
        console.log(
          `Open the ray-ts dashboard at:\n  ${full}\n` +
            `The part after # is the cluster's token: your browser keeps it in this tab and does not send it in the ` +
            `URL; do not share the link.`,
        );
    });
}
