import type { Stats } from "node:fs";

/*
 * What a cache of "this file, read once, held this" may trust: the file's identity. Any write, truncation,
 * replacement, deletion or copy (a `git checkout`, a CI cache restore) changes it, so while a file keeps the
 * identity it was read with, what was read from it still holds, and a `stat` stands for the read.
 *
 * File times are coarse (a clock tick): a file written again within the tick of its last change keeps its
 * identity. As git does with "racily clean" files, an identity is trusted only for a read that began at least a
 * window after the file's last change, so any later write lands in a later tick and moves the change time
 * (whatever it does to the modification time, the change time is always the clock's).
 */

/** A file's size, times, inode and device: any write, replacement or copy changes it. */
export function fileIdentity(info: Stats): string {
  return `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}:${info.dev}`;
}

/**
 * How long after a change a file's bytes must be read before its identity is trusted: the file system's tick with
 * room to spare. Linux ticks are at most 10 ms and Windows' about 16 ms; whole-second times (FAT, HFS+, ext3, or a
 * 2 s FAT modification time) take the coarse window. Times to the millisecond tell which.
 */
export function racyWindowMs(info: Stats): number {
  return info.ctimeMs % 1000 === 0 || info.mtimeMs % 1000 === 0 ? COARSE_WINDOW_MS : FINE_WINDOW_MS;
}

/** Whether a read of the file that began at `readAt` (`Date.now()`) began a window after its last change. */
export function readSettled(info: Stats, readAt: number, windowMs = racyWindowMs(info)): boolean {
  return readAt - info.ctimeMs >= windowMs;
}

export const FINE_WINDOW_MS = 50;
const COARSE_WINDOW_MS = 2000;
