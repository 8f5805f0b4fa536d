// How much of something is used: a thin bar and "used / total".

export function Meter(props: { used: number; total: number; label: string; text?: string }) {
  const share = props.total > 0 ? Math.min(1, props.used / props.total) : 0;
  const tone = share > 0.9 ? "hot" : share > 0.6 ? "warm" : "";
  return (
    <div class="meter" title={`${props.label}: ${props.text ?? `${props.used} / ${props.total}`}`}>
      <div class="meter-text"><span>{props.label}</span><span>{props.text ?? `${props.used} / ${props.total}`}</span></div>
      <progress class={tone} max={1} value={share} aria-label={props.label} />
    </div>
  );
}
