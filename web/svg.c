/* SPDX-License-Identifier: MIT */
/* Plots drawn on the server as SVG: nothing to fetch, nothing to run in
 * the browser, the same picture in a screenshot. */
#include "web.h"

#include <math.h>
#include <string.h>

/* A "nice" axis top at or above v: 1, 2 or 5 times a power of ten. */
static double
nice_ceil(double v) {
  if (v <= 0)
    return 1;
  double p = pow(10, floor(log10(v)));
  for (int i = 0; i < 3; i++) {
    double m = (double[]){1, 2, 5}[i] * p;
    if (m >= v)
      return m;
  }
  return 10 * p;
}

/* The same in binary units for bytes (100 MiB, not 95.4), and for
 * seconds whole seconds, minutes or hours on each of the four grid lines. */
static double
nice_axis(double v, const char *unit) {
  if (unit && strcmp(unit, "seconds") == 0) {
    double step = v <= 240 ? 1 : v <= 14400 ? 60 : 3600;
    return ceil(v / (4 * step)) * 4 * step;
  }
  if (!unit || strcmp(unit, "bytes") != 0)
    return nice_ceil(v);
  double scale = 1;
  while (v / scale >= 1024)
    scale *= 1024;
  return nice_ceil(v / scale) * scale;
}

static void
fmt_value(double v, const char *unit, char *buf, size_t len) {
  if (unit && strcmp(unit, "bytes") == 0)
    fmt_bytes((int64_t)v, buf, len);
  else if (unit && strcmp(unit, "seconds") == 0)
    fmt_span((int64_t)v, buf, len);
  else {
    /* Two significant digits, never an exponent: 0.00005 h, 1.5, 250. */
    int decimals = v >= 100 || v == floor(v) ? 0 : (int)(1 - floor(log10(fabs(v))));
    snprintf(buf, len, "%.*f%s%s",
             decimals < 0   ? 0
             : decimals > 6 ? 6
                            : decimals,
             v, unit ? " " : "", unit ? unit : "");
  }
}

/* A plot's frame: the <svg> of W x H, its title, and four grid lines up
 * to ymax with their labels, the plot area starting L from the left and
 * T from the top, ph high, R short of the right. */
static void
plot_open(struct sb *b, const char *title, const char *unit, double ymax, double W, double H,
          double L, double R, double T, double ph) {
  sb_printf(b, "<svg class=\"plot\" width=\"100%%\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">", W, H);
  sb_printf(b, "<text x=\"%.0f\" y=\"16\" style=\"font-weight:600;fill:#1d2330\">", L);
  sb_html(b, title);
  sb_puts(b, "</text>");
  for (int g = 0; g <= 4; g++) {
    double y = T + ph - ph * g / 4;
    char lab[32];
    fmt_value(ymax * g / 4, unit, lab, sizeof(lab));
    sb_printf(b,
              "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6ee\"/>"
              "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
              L, W - R, y, y, L - 6, y + 4, lab);
  }
}

void
svg_stacked_bar(struct sb *b, const struct bar_part *parts, size_t n, double total,
                const char *unit) {
  const double width = 620, height = 26;
  sb_printf(b, "<svg width=\"100%%\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">", width, height + 4);
  sb_printf(b, "<rect x=\"0\" y=\"2\" width=\"%.0f\" height=\"%.0f\" rx=\"4\" fill=\"#eef0f6\"/>",
            width, height);
  double x = 0;
  for (size_t i = 0; i < n && total > 0; i++) {
    double w = parts[i].value / total * width;
    if (w <= 0)
      continue;
    if (x + w > width)
      w = width - x;
    char v[32];
    fmt_value(parts[i].value, unit, v, sizeof(v));
    sb_printf(b, "<rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>", x,
              w, height, parts[i].color);
    sb_html(b, parts[i].label);
    sb_printf(b, ": %s</title></rect>", v);
    if (w > 46) {
      sb_printf(b, "<text x=\"%.1f\" y=\"19\" style=\"fill:#fff\">", x + 5);
      sb_html(b, parts[i].label);
      sb_puts(b, "</text>");
    }
    x += w;
  }
  sb_puts(b, "</svg>");
}

void
svg_gauge(struct sb *b, double used, double limit, bool near_is_bad) {
  const double width = 120;
  double frac = limit > 0 ? used / limit : 0;
  const char *color = !near_is_bad  ? "#3558d6"
                      : frac >= 0.9 ? "#c0392b"
                      : frac >= 0.7 ? "#c77c02"
                                    : "#2a9d8f";
  sb_printf(b,
            "<svg width=\"%.0f\" height=\"10\" role=\"img\"><rect width=\"%.0f\" height=\"10\" "
            "rx=\"3\" fill=\"#eef0f6\"/>",
            width, width);
  if (limit > 0)
    sb_printf(b, "<rect width=\"%.1f\" height=\"10\" rx=\"3\" fill=\"%s\"/>",
              (frac > 1 ? 1 : frac) * width, color);
  sb_puts(b, "</svg>");
}

void
svg_lines(struct sb *b, const char *title, const char *unit, const struct line *lines, size_t n,
          double limit, const char *limit_label) {
  const double W = 640, H = 230, L = 72, R = 12, T = 26, B = 28;
  double xmax = 1, ymax = limit > 0 ? limit : 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < lines[i].n; k++) {
      if (lines[i].x[k] > xmax)
        xmax = lines[i].x[k];
      if (lines[i].y[k] > ymax)
        ymax = lines[i].y[k];
    }
  ymax = nice_axis(ymax * 1.05, unit);
  double pw = W - L - R, ph = H - T - B;
  plot_open(b, title, unit, ymax, W, H, L, R, T, ph);
  for (int g = 0; g <= 4; g++) { /* x labels: time since start */
    double x = L + pw * g / 4;
    char lab[32];
    fmt_span((int64_t)(xmax * g / 4), lab, sizeof(lab));
    sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>", x, H - 8, lab);
  }
  if (limit > 0) {
    double y = T + ph - limit / ymax * ph;
    sb_printf(b,
              "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" "
              "stroke-dasharray=\"6 4\"/><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" "
              "style=\"fill:#c0392b\">",
              L, W - R, y, y, W - R, y - 4);
    sb_html(b, limit_label);
    sb_puts(b, "</text>");
  }
  for (size_t i = 0; i < n; i++) {
    if (lines[i].n == 0)
      continue;
    sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
              lines[i].color, lines[i].dashed ? " stroke-dasharray=\"3 3\"" : "");
    for (size_t k = 0; k < lines[i].n; k++)
      sb_printf(b, "%.1f,%.1f ", L + lines[i].x[k] / xmax * pw,
                T + ph - (lines[i].y[k] > 0 ? lines[i].y[k] : 0) / ymax * ph);
    sb_puts(b, "\"/>");
    if (lines[i].n == 1) /* one sample: a dot, or nothing would show */
      sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                L + lines[i].x[0] / xmax * pw, T + ph - lines[i].y[0] / ymax * ph, lines[i].color);
  }
  double lx = W - R;
  for (size_t i = n; i-- > 0;) { /* legend, right-aligned at the top */
    size_t chars = strlen(lines[i].label);
    lx -= (double)chars * 6.2 + 22;
    sb_printf(b,
              "<rect x=\"%.0f\" y=\"7\" width=\"10\" height=\"10\" fill=\"%s\"/>"
              "<text x=\"%.0f\" y=\"16\">",
              lx, lines[i].color, lx + 14);
    sb_html(b, lines[i].label);
    sb_puts(b, "</text>");
  }
  sb_puts(b, "</svg>");
}

void
svg_day_bars(struct sb *b, const char *title, const char *unit, char *const *days, size_t ndays,
             char *const *series, const char *const *colors, size_t nseries, const double *v) {
  const double W = 900, H = 240, L = 84, R = 12, T = 26, B = 34;
  double ymax = 0;
  for (size_t d = 0; d < ndays; d++) {
    double sum = 0;
    for (size_t s = 0; s < nseries; s++)
      sum += v[s * ndays + d];
    if (sum > ymax)
      ymax = sum;
  }
  ymax = nice_axis(ymax * 1.05, unit);
  if (!unit && ymax < 40) /* counts: whole numbers on the four grid lines */
    ymax = ymax <= 4 ? 4 : ceil(ymax / 4) * 4;
  double pw = W - L - R, ph = H - T - B, slot = ndays ? pw / (double)ndays : pw;
  plot_open(b, title, unit, ymax, W, H, L, R, T, ph);
  for (size_t d = 0; d < ndays; d++) {
    double x = L + slot * (double)d, y = T + ph;
    for (size_t s = 0; s < nseries; s++) {
      double h = v[s * ndays + d] / ymax * ph;
      if (h <= 0)
        continue;
      y -= h;
      char val[32];
      fmt_value(v[s * ndays + d], unit, val, sizeof(val));
      sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                x + slot * 0.15, y, slot * 0.7, h, colors[s]);
      sb_html(b, days[d]);
      sb_puts(b, " ");
      sb_html(b, series[s]);
      sb_printf(b, ": %s</title></rect>", val);
    }
    if (ndays <= 10 || d % 5 == 0 || d + 1 == ndays) /* "12-07" */
      sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>", x + slot / 2,
                H - 14, strlen(days[d]) >= 10 ? days[d] + 5 : days[d]);
  }
  sb_puts(b, "</svg><div class=\"legend\">");
  for (size_t s = 0; s < nseries; s++) {
    sb_printf(b, "<span><i style=\"background:%s\"></i>", colors[s]);
    sb_html(b, series[s]);
    sb_puts(b, "</span>");
  }
  sb_puts(b, "</div>");
}
