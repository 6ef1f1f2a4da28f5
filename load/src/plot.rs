//! A small SVG line chart, so a run draws its own figure (no plotting dependency).

use std::fmt::Write;

/// One line of the chart.
pub struct Series {
    /// Its legend.
    pub name: String,
    /// Points, in increasing x.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// A round step giving about `ticks` ticks up to `max`.
fn tick_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|step| *step >= raw);
    step.unwrap_or(10.0 * magnitude)
}

fn label(value: f64) -> String {
    if value.abs() >= 1000.0 {
        format!("{}k", format!("{:.1}", value / 1000.0).trim_end_matches(".0"))
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else if value.abs() < 0.1 {
        // Decades below 0.1 (log axes): as many decimals as the first digit needs.
        let decimals = (-value.abs().log10()).ceil().max(1.0) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// How the y axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YScale {
    /// From 0, evenly spaced round ticks.
    Linear,
    /// Whole decades around the data, a tick per decade: latencies spread over orders of
    /// magnitude (a p50 of 1 ms beside a max of 1 s) stay readable.
    Log,
}

/// The y axis: where a value lands (0 at the bottom, 1 at the top) and the ticks to draw.
struct YAxis {
    scale: YScale,
    low: f64,
    high: f64,
    ticks: Vec<f64>,
}

impl YAxis {
    fn new(scale: YScale, series: &[Series]) -> Self {
        let values = series.iter().flat_map(|s| s.points.iter().map(|(_, y)| *y));
        match scale {
            YScale::Linear => {
                let y_max = values.fold(0.0f64, f64::max);
                let step = tick_step(y_max.max(1.0), 5.0);
                let high = (y_max / step).ceil().max(1.0) * step;
                let ticks =
                    (0..).map(|i| f64::from(i) * step).take_while(|t| *t <= high + step / 2.0).collect();
                Self { scale, low: 0.0, high, ticks }
            }
            YScale::Log => {
                let positive: Vec<f64> = values.filter(|y| *y > 0.0).collect();
                let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
                let max = positive.iter().copied().fold(0.0f64, f64::max);
                let (low, high) = if positive.is_empty() {
                    (0.0, 1.0)
                } else {
                    let low = min.log10().floor();
                    (low, max.log10().ceil().max(low + 1.0))
                };
                let ticks = (0..).map(|i| low + f64::from(i)).take_while(|t| *t <= high).collect();
                Self { scale, low, high, ticks }
            }
        }
    }

    /// Where `value` lands, from 0 (bottom) to 1 (top); log values ≤ 0 sit at the bottom.
    fn fraction(&self, value: f64) -> f64 {
        let value = match self.scale {
            YScale::Linear => value,
            YScale::Log if value > 0.0 => value.log10(),
            YScale::Log => self.low,
        };
        (value - self.low) / (self.high - self.low)
    }

    /// Each tick: its position (as `fraction` takes it) and its label.
    fn ticks(&self) -> impl Iterator<Item = (f64, String)> + '_ {
        self.ticks.iter().map(|tick| match self.scale {
            YScale::Linear => (*tick, label(*tick)),
            YScale::Log => (10f64.powf(*tick), label(10f64.powf(*tick))),
        })
    }
}

/// Draws `series` on axes starting at 0.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    chart(title, x_label, y_label, series, YScale::Linear)
}

/// Draws `series` with x from 0 and y on `scale`.
pub fn chart(title: &str, x_label: &str, y_label: &str, series: &[Series], scale: YScale) -> String {
    let x_max = series.iter().flat_map(|s| s.points.iter()).fold(0.0f64, |x, (px, _)| x.max(*px));
    let x_step = tick_step(x_max.max(1.0), 5.0);
    let x_top = (x_max / x_step).ceil().max(1.0) * x_step;
    let y_axis = YAxis::new(scale, series);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + x / x_top * plot_w;
    let sy = |y: f64| TOP + plot_h - y_axis.fraction(y) * plot_h;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let mut tick = 0.0;
    while tick <= x_top + x_step / 2.0 {
        let x = sx(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0,
            label(tick)
        );
        tick += x_step;
    }
    for (tick, text) in y_axis.ticks() {
        let y = sy(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 8.0,
            y + 4.0,
            text
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 15.0,
        escape(x_label)
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(20,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (index, line) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let path: Vec<String> =
            line.points.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for (x, y) in &line.points {
            let _ =
                writeln!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#, sx(*x), sy(*y));
        }
        let legend_y = TOP + 18.0 + index as f64 * 18.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{legend_y:.1}" x2="{:.1}" y2="{legend_y:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + 14.0,
            LEFT + 38.0,
            LEFT + 44.0,
            legend_y + 4.0,
            escape(&line.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(19_000.0, 5.0), 5_000.0);
        assert_eq!(tick_step(10.0, 5.0), 2.0);
    }

    #[test]
    fn a_chart_draws_every_series() {
        let svg = line_chart(
            "t",
            "x",
            "y",
            &[
                Series { name: "a".into(), points: vec![(0.0, 1.0), (2.0, 3.0)] },
                Series { name: "b<".into(), points: vec![(1.0, 1.0)] },
            ],
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("b&lt;"));
    }

    #[test]
    fn a_log_axis_spans_whole_decades() {
        let series = [Series { name: "p99".into(), points: vec![(1.0, 0.8), (2.0, 35.0)] }];
        let axis = YAxis::new(YScale::Log, &series);
        assert_eq!((axis.low, axis.high), (-1.0, 2.0));
        assert!((axis.fraction(10.0) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(axis.ticks().map(|(_, text)| text).collect::<Vec<_>>(), ["0.1", "1", "10", "100"]);
    }
}
