// A time-series chart (uPlot, bundled): one line per series, redrawn in place as points come,
// as wide as its box.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const WINDOW_S = 60;

export interface Series {
  label: string;
  color: string;
}

/** `data[0]` the times (seconds since the epoch), then one array of values per series. */
export function Chart(props: { title: string; series: Series[]; data: number[][]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 220,
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least the last minute, so a chart of few points does not stretch them over years.
        x: {
          time: true,
          range: (_u, min, max) => {
            const end = max ?? Date.now() / 1000; // null while there is no point yet
            return [Math.min(min ?? end, end - WINDOW_S), end];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
      },
      axes: [
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e5e7eb" } },
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e5e7eb" }, size: 56 },
      ],
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.color + "14", points: { show: false } }))],
    };
    plot.current = new uPlot(opts, props.data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
