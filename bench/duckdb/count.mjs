// DuckDB's count of a WHERE over a CSV file, the baseline of okuri_bench_bulk.
//   node count.mjs FILE THREADS REPS WHERE
// Prints {"count": N, "seconds": S}: the median of REPS runs of the query alone (DuckDB loaded).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads, reps, where] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
const sql = `SELECT count(*) AS n FROM read_csv('${file.replaceAll("'", "''")}', header = true) WHERE ${where}`;
const times = [];
let count = 0;
for (let i = 0; i < Number(reps); i++) {
  const t0 = process.hrtime.bigint();
  const reader = await connection.runAndReadAll(sql);
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  count = Number(reader.getRows()[0][0]);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ count, seconds: times[Math.floor(times.length / 2)] }));
