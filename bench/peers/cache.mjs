// Where bench/peers.mjs keeps the peers it fetches and builds (never project dependencies):
// ~/.cache/viewgate/bench, or VG_BENCH_CACHE.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PEERS_CACHE = process.env.VG_BENCH_CACHE ?? join(homedir(), '.cache/viewgate/bench');
