/**
 * What the libraries' command lines (`ray-ts serve`, `ray-ts rllib`) share: running a commander
 * program to an exit code, and running `main` when the library's own `bin` script is the one node
 * was started with (`ray-ts <command>` loads the same module and calls `main` itself).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The part of a commander `Command` that {@link runCommand} uses. */
export interface CliProgram {
  outputHelp(): void;
  parseAsync(argv: readonly string[], opts: { from: 'user' }): Promise<unknown>;
}

/**
 * Runs `cmd` on `argv` (the arguments after the command's name) and resolves to the exit code:
 * `exitCode()` after it ran, commander's code after a usage error (commander printed it), and 1
 * with `ray-ts <name>: <message>` printed for any other error. No arguments print the help (1).
 */
export async function runCommand(
  name: string,
  cmd: CliProgram,
  argv: string[],
  exitCode: () => number,
): Promise<number> {
  if (!argv.length) {
    cmd.outputHelp();
    return 1;
  }
  try {
    await cmd.parseAsync(argv, { from: 'user' });
    return exitCode();
  } catch (err) {
    const e = err as { code?: unknown; exitCode?: unknown; message?: string };
    if (typeof e?.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number')
      return e.exitCode;
    console.error(`ray-ts ${name}: ${e?.message ?? String(err)}`);
    return 1;
  }
}

/**
 * Calls `main(process.argv.slice(2))` and exits with its code when the module at `moduleUrl`
 * (pass `import.meta.url`) is the script node was started with.
 */
export function runIfEntryScript(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  if (!process.argv[1]) return;
  try {
    if (fs.realpathSync(process.argv[1]) !== fs.realpathSync(fileURLToPath(moduleUrl))) return;
  } catch {
    return;
  }
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
