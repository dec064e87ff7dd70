// Parse PromQL expressions with Prometheus' own Lezer grammar
// (@prometheus-io/lezer-promql, the parser of the Prometheus UI) and report
// syntax errors. promtool is a Go binary and is not available offline.
//
// usage: node promql-parse.mjs exprs.json   (from promql_exprs.py)
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';

const exprs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let failed = 0;
for (const { where, expr } of exprs) {
  const tree = parser.parse(expr);
  const errors = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  if (errors.length > 0) {
    failed += 1;
    const at = errors[0];
    console.error(`error: ${where}: PromQL syntax error at offset ${at}:\n  ${expr.replace(/\n/g, '\n  ')}\n  near: ${JSON.stringify(expr.slice(Math.max(0, at - 20), at + 20))}`);
  }
}
console.log(`promql: ${exprs.length - failed} of ${exprs.length} expressions parse`);
process.exit(failed > 0 ? 1 : 0);
