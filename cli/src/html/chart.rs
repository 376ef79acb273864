//! Line charts as inline SVG, drawn in Rust: no script, no library, nothing fetched.
//!
//! A chart has a time axis (seconds since the run's start, labelled in s, min or h), a value
//! axis with its unit, a legend, shaded drain and dashed stage marks, and hover values: the plot
//! is cut into at most [`HOVER_COLUMNS`] columns, each with an SVG `<title>` that browsers show
//! as a tooltip. Long series are downsampled to at most [`MAX_POINTS`] points per line,
//! keeping each bucket's minimum and maximum, so a 4-hour run at 1 s stays light and its spikes
//! stay visible.

use std::fmt::Write;

use super::escape;

/// Most points drawn per line.
pub const MAX_POINTS: usize = 2000;
/// Most hover columns per chart.
pub const HOVER_COLUMNS: usize = 300;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 34.0;

/// Colours of the lines, in order.
pub const PALETTE: [&str; 7] =
    ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#64748b"];

/// One line: `(x seconds, value)` points; `None` leaves a gap.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, Option<f64>)>,
}

/// A vertical mark on the time axis.
#[derive(Clone, Debug)]
pub struct Mark {
    pub x: f64,
    pub label: String,
}

/// One chart.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// Unit of the values, shown on the axis and in tooltips.
    pub unit: String,
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
    /// Shaded span (seconds), e.g. the drain.
    pub shade: Option<(f64, f64, String)>,
    /// End of the time axis, seconds.
    pub x_max: f64,
    /// The x axis is not time but a quantity in this unit (e.g. `traces/s`).
    pub x_unit: Option<String>,
}

/// At most `max` points: each of `max / 2` buckets keeps its lowest and highest value, in time
/// order. Gaps (`None`) survive as gaps.
pub fn downsample(points: &[(f64, Option<f64>)], max: usize) -> Vec<(f64, Option<f64>)> {
    if points.len() <= max || max < 4 {
        return points.to_vec();
    }
    let buckets = max / 2;
    let per = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max);
    for chunk in points.chunks(per) {
        let present: Vec<(usize, f64)> =
            chunk.iter().enumerate().filter_map(|(i, (_, y))| y.map(|y| (i, y))).collect();
        if present.is_empty() {
            out.push((chunk[0].0, None));
            continue;
        }
        let lo = present.iter().copied().fold(present[0], |a, b| if b.1 < a.1 { b } else { a });
        let hi = present.iter().copied().fold(present[0], |a, b| if b.1 > a.1 { b } else { a });
        let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        out.push((chunk[first.0].0, Some(first.1)));
        if second.0 != first.0 {
            out.push((chunk[second.0].0, Some(second.1)));
        }
    }
    out
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(power * 10.0)
}

/// Steps of the time axis, seconds.
fn time_step(x_max: f64) -> f64 {
    const STEPS: [f64; 16] = [
        0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
        7200.0, 14400.0,
    ];
    STEPS.iter().copied().find(|s| x_max / s <= 8.0).unwrap_or(21600.0)
}

/// A time on the axis: `45 s`, `12 min`, `1.5 h`.
pub fn time_label(seconds: f64, x_max: f64) -> String {
    if x_max <= 180.0 {
        format!("{} s", trim(seconds))
    } else if x_max <= 3.0 * 3600.0 {
        format!("{} min", trim(seconds / 60.0))
    } else {
        format!("{} h", trim(seconds / 3600.0))
    }
}

/// A number with at most two decimals and no trailing zeros.
pub fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// A value as an axis or tooltip shows it: 3 significant digits, k/M for large numbers.
pub fn value_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim((v * 10.0).round() / 10.0)
    } else {
        trim(v)
    }
}

/// The chart as a `<figure>`: SVG plot and HTML legend.
pub fn render(chart: &Chart) -> String {
    let mut o = String::new();
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_max = chart.x_max.max(1e-3);
    let lines: Vec<Line> = chart
        .lines
        .iter()
        .map(|l| Line { points: downsample(&l.points, MAX_POINTS), ..l.clone() })
        .collect();
    let y_top = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_step = nice_step(if y_top > 0.0 { y_top } else { 1.0 }, 4.0);
    let y_max = (y_top / y_step).ceil().max(1.0) * y_step;
    let sx = |x: f64| LEFT + (x / x_max).clamp(0.0, 1.0) * plot_w;
    let sy = |y: f64| TOP + plot_h - (y / y_max).clamp(0.0, 1.0) * plot_h;
    let drawn: usize =
        lines.iter().map(|l| l.points.iter().filter(|p| p.1.is_some()).count()).sum();
    let _ = write!(
        o,
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{title} <span class=\"unit\">({unit})</span></figcaption>\
         <svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{title}\" data-points=\"{drawn}\" preserveAspectRatio=\"xMidYMid meet\">",
        id = escape(&chart.id),
        title = escape(&chart.title),
        unit = escape(&chart.unit),
    );
    // Drain (or any shaded span) behind everything.
    if let Some((from, to, label)) = &chart.shade
        && to > from
    {
        let (a, b) = (sx(*from), sx(*to));
        let _ = write!(
            o,
            "<rect class=\"shade\" x=\"{a:.1}\" y=\"{TOP}\" width=\"{w:.1}\" height=\"{plot_h}\"/>\
             <text class=\"shade-label\" x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            w = (b - a).max(0.5),
            tx = (a + b) / 2.0,
            ty = TOP + 11.0,
            label = escape(label),
        );
    }
    // Grid and value axis.
    let mut v = 0.0;
    while v <= y_max + y_step / 2.0 {
        let y = sy(v);
        let _ = write!(
            o,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x2 = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = y + 3.5,
            label = value_label(v),
        );
        v += y_step;
    }
    let _ = write!(
        o,
        "<text class=\"axis-label\" transform=\"translate(12 {cy}) rotate(-90)\" text-anchor=\"middle\">{unit}</text>",
        cy = TOP + plot_h / 2.0,
        unit = escape(&chart.unit),
    );
    // Time axis.
    let step = if chart.x_unit.is_some() { nice_step(x_max, 6.0) } else { time_step(x_max) };
    let x_label = |t: f64| match &chart.x_unit {
        Some(unit) => format!("{} {}", value_label(t), escape(unit)),
        None => time_label(t, x_max),
    };
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let x = sx(t);
        let _ = write!(
            o,
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y1}\" y2=\"{y2}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            y1 = TOP + plot_h,
            y2 = TOP + plot_h + 4.0,
            ty = TOP + plot_h + 16.0,
            label = x_label(t),
        );
        t += step;
    }
    let _ = write!(
        o,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
         <text class=\"axis-label\" x=\"{x2}\" y=\"{ly}\" text-anchor=\"end\">{caption}</text>",
        caption = chart
            .x_unit
            .as_ref()
            .map_or("time since start".to_owned(), |u| format!("rate ({})", escape(u))),
        x2 = LEFT + plot_w,
        y = TOP + plot_h,
        ly = HEIGHT - 2.0,
    );
    // Stage marks.
    for mark in &chart.marks {
        if mark.x <= 0.0 || mark.x >= x_max {
            continue;
        }
        let x = sx(mark.x);
        let _ = write!(
            o,
            "<line class=\"mark\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{y2}\"/>\
             <text class=\"mark-label\" x=\"{tx:.1}\" y=\"{ty}\">{label}</text>",
            y2 = TOP + plot_h,
            tx = x + 3.0,
            ty = TOP + plot_h - 4.0,
            label = escape(&mark.label),
        );
    }
    // Lines.
    for line in &lines {
        let mut d = String::new();
        let mut pen_down = false;
        for (x, y) in &line.points {
            match y {
                Some(y) if y.is_finite() => {
                    let _ = write!(
                        d,
                        "{}{:.1} {:.1}",
                        if pen_down { " L" } else { " M" },
                        sx(*x),
                        sy(*y)
                    );
                    pen_down = true;
                }
                _ => pen_down = false,
            }
        }
        let _ = write!(
            o,
            "<path class=\"line{dash}\" d=\"{d}\" stroke=\"{color}\"/>",
            dash = if line.dashed { " dashed" } else { "" },
            d = d.trim(),
            color = line.color,
        );
        // Few points: show them as dots too (a line of two points hides where they are).
        let present = line.points.iter().filter(|p| p.1.is_some()).count();
        if present <= 60 {
            for (x, y) in &line.points {
                if let Some(y) = y {
                    let _ = write!(
                        o,
                        "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" fill=\"{}\"/>",
                        sx(*x),
                        sy(*y),
                        line.color
                    );
                }
            }
        }
    }
    // Hover columns with the values of every line at that time.
    let xs: Vec<f64> = {
        let mut xs: Vec<f64> =
            chart.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        xs
    };
    if !xs.is_empty() {
        let columns = xs.len().min(HOVER_COLUMNS);
        let width = plot_w / columns as f64;
        for c in 0..columns {
            let x_at = (c as f64 + 0.5) / columns as f64 * x_max;
            let mut tip = x_label(x_at);
            for line in &chart.lines {
                let nearest = line
                    .points
                    .iter()
                    .min_by(|a, b| (a.0 - x_at).abs().total_cmp(&(b.0 - x_at).abs()));
                let value = match nearest.and_then(|p| p.1) {
                    Some(v) => format!("{} {}", value_label(v), chart.unit),
                    None => "–".to_owned(),
                };
                let _ = write!(tip, "\n{}: {value}", line.name);
            }
            let _ = write!(
                o,
                "<rect class=\"hover\" x=\"{x:.1}\" y=\"{TOP}\" width=\"{w:.2}\" height=\"{plot_h}\"><title>{tip}</title></rect>",
                x = LEFT + c as f64 * width,
                w = width,
                tip = escape(&tip),
            );
        }
    }
    o.push_str("</svg><div class=\"legend\">");
    for line in &chart.lines {
        let _ = write!(
            o,
            "<span><i class=\"swatch{dash}\" style=\"--c:{color}\"></i>{name}</span>",
            dash = if line.dashed { " dashed" } else { "" },
            color = line.color,
            name = escape(&line.name),
        );
    }
    o.push_str("</div></figure>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_extremes_and_bounds_points() {
        let points: Vec<(f64, Option<f64>)> = (0..14_400)
            .map(|i| (i as f64, Some(if i == 7777 { 1e6 } else { (i % 10) as f64 })))
            .collect();
        let out = downsample(&points, MAX_POINTS);
        assert!(out.len() <= MAX_POINTS, "{}", out.len());
        assert!(out.iter().any(|p| p.1 == Some(1e6)));
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
        let short = [(0.0, Some(1.0)), (1.0, None)];
        assert_eq!(downsample(&short, MAX_POINTS), short.to_vec());
    }

    #[test]
    fn a_chart_has_axes_legend_and_hover_values() {
        let chart = Chart {
            id: "c".into(),
            title: "Throughput".into(),
            unit: "traces/s".into(),
            lines: vec![Line {
                name: "started".into(),
                color: PALETTE[0],
                dashed: false,
                points: vec![(1.0, Some(10.0)), (2.0, Some(12.0)), (3.0, None)],
            }],
            marks: vec![Mark { x: 1.5, label: "stage 2".into() }],
            shade: Some((2.0, 3.0, "drain".into())),
            x_max: 3.0,
            x_unit: None,
        };
        let svg = render(&chart);
        assert!(svg.contains("data-points=\"2\""), "{svg}");
        assert!(svg.contains("<title>"), "{svg}");
        assert!(svg.contains("traces/s"));
        assert!(svg.contains("stage 2") && svg.contains("drain"));
        assert!(svg.contains("class=\"legend\""));
        assert_eq!(value_label(12_345.0), "12.35k");
        assert_eq!(time_label(600.0, 3600.0), "10 min");
    }
}
