// Heatmaps on a <canvas>: rows x columns of values, with row and column labels. Weights (the
// alignment) run from their min to their max; signed maps (logit contributions, erasure) are
// diverging around 0, blue lowers and red raises, as in the HTML report's figures.
"use strict";

function heatColor(t) {
  // dark blue -> teal -> yellow (perceptually ordered, readable on white)
  const stops = [[13, 8, 135], [33, 145, 140], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function signedColor(t) {
  // t in [-1, 1]: blue (-1) -> white (0) -> red (+1)
  const x = Math.max(-1, Math.min(1, t));
  const end = x < 0 ? [33, 102, 172] : [178, 24, 43];
  const c = end.map((v) => Math.round(255 + Math.abs(x) * (v - 255)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function drawHeatmap(canvas, matrix, rowLabels, colLabels, title, signed = false) {
  const rows = matrix.length;
  const cols = rows ? matrix[0].length : 0;
  const left = 80, top = 22, bottom = 40;
  const cell = cols <= 24 ? 48 : Math.max(2, Math.min(28, Math.floor(560 / Math.max(1, cols))));
  const rowHeight = 18;
  canvas.width = left + cols * cell + 10;
  canvas.height = top + rows * rowHeight + bottom;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#222";
  ctx.font = "12px sans-serif";
  ctx.fillText(title, 4, 14);
  let lo = Infinity, hi = -Infinity;
  for (const row of matrix) for (const v of row) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi > lo ? hi - lo : 1;
  const limit = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const color = (v) => (signed ? signedColor(v / limit) : heatColor((v - lo) / span));
  matrix.forEach((row, r) => {
    row.forEach((v, c) => {
      ctx.fillStyle = v === null ? "#ccc" : color(v);
      ctx.fillRect(left + c * cell, top + r * rowHeight, cell, rowHeight - 1);
    });
    ctx.fillStyle = "#222";
    ctx.textAlign = "right";
    ctx.fillText(String(rowLabels[r] ?? r).slice(0, 11), left - 4, top + r * rowHeight + 13);
  });
  ctx.textAlign = "left";
  const every = Math.max(1, Math.ceil(cols / Math.floor((cols * cell) / 48 || 1)));
  for (let c = 0; c < cols; c += every) {
    ctx.save();
    ctx.translate(left + c * cell + 2, top + rows * rowHeight + 4);
    ctx.rotate(Math.PI / 5);
    ctx.fillText(String(colLabels[c] ?? c).slice(0, 10), 0, 8);
    ctx.restore();
  }
  canvas.dataset.rows = rows;
  canvas.dataset.cols = cols;
  canvas.dataset.scale = signed ? "diverging" : "sequential";
}
