import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** One input to read, or one that could not even be listed (shown as that file's error). */
export interface InputFile {
  /** The path as shown to the user: as given, or the given folder joined with the relative path. */
  path: string;
  error?: { code: string; reason: string };
}

export interface DiscoverOptions {
  /** Absolute path never to return (the `--out` file, which may sit inside a walked folder). */
  exclude?: string;
}

/**
 * Expands the command-line paths into the files to read, in order: each argument in turn, folders
 * walked recursively with entries sorted by name (code-unit order, so the same on every machine).
 * Names beginning with `.` are skipped inside folders (a hidden file named explicitly is read).
 * Symbolic links are followed; a folder reached twice (link loops) is walked once. A file named
 * twice is read once. Only the path list is held in memory, never file contents.
 */
export async function discoverFiles(paths: readonly string[], options: DiscoverOptions = {}): Promise<InputFile[]> {
  const found: InputFile[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  if (options.exclude) seenFiles.add(resolve(options.exclude));

  const addFile = (path: string) => {
    const key = resolve(path);
    if (seenFiles.has(key)) return;
    seenFiles.add(key);
    found.push({ path });
  };

  const walk = async (dir: string): Promise<void> => {
    let real: string;
    let entries: Dirent[];
    try {
      real = await realpath(dir);
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      found.push({ path: dir, error: fsError(error) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) addFile(path);
      else if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          if (target.isDirectory()) await walk(path);
          else if (target.isFile()) addFile(path);
        } catch (error) {
          found.push({ path, error: fsError(error) });
        }
      }
      // Sockets, FIFOs and devices inside a folder are not reports: skipped silently.
    }
  };

  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      found.push({ path, error: fsError(error) });
      continue;
    }
    if (info.isDirectory()) await walk(path);
    else addFile(path); // a FIFO or /dev/stdin named explicitly is read like a file
  }
  return found;
}

/** A file-system error as `{ code, reason }`: the system's code (`ENOENT`...) and plain words. */
export function fsError(error: unknown): { code: string; reason: string } {
  const e = error as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a folder',
    ELOOP: 'too many symbolic links',
    ERR_FS_FILE_TOO_LARGE: 'file too large to read',
  };
  const code = typeof e?.code === 'string' ? e.code : 'unreadable';
  const reason = reasons[code] ?? (e instanceof Error ? e.message : String(error));
  return { code, reason: `cannot read: ${reason}` };
}
