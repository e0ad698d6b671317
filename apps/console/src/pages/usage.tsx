import type { LimitUsage, UsageObject } from "@imagegen/shared/public-api";
import type { ApiClient } from "../api/client.js";
import { ErrorMessage } from "../components/error-message.js";
import { useLoad } from "../use-load.js";

const LIMIT_LABELS: Record<LimitUsage["name"], string> = {
  requests_per_minute: "Requests per minute",
  images_per_minute: "Images per minute",
  images_per_day: "Images per day (UTC)",
  concurrent_generations: "Concurrent generations",
};

/** Usage (admin keys): images per day for 30 days, and each limit with what is left. */
export function UsagePage(props: { client: ApiClient }) {
  const usage = useLoad(() => props.client.usage(), { pollMs: 10_000, poll: () => true });
  return (
    <section>
      <h1>Usage</h1>
      <ErrorMessage error={usage.error} />
      {usage.data ? (
        <>
          <DailyChart days={usage.data.days} />
          <Limits limits={usage.data.limits} />
        </>
      ) : usage.error ? null : (
        <p class="loading">Loading usage…</p>
      )}
    </section>
  );
}

function DailyChart(props: { days: UsageObject["days"] }) {
  const max = Math.max(1, ...props.days.map((day) => day.images));
  const total = props.days.reduce((sum, day) => sum + day.images, 0);
  const width = 1000;
  const height = 200;
  const barWidth = width / props.days.length;
  return (
    <section class="card" aria-labelledby="daily-heading">
      <h2 id="daily-heading">Images per day, last 30 days</h2>
      <p>
        {total} {total === 1 ? "image" : "images"} in 30 days; today {props.days.at(-1)?.images ?? 0}.
      </p>
      <svg class="chart" viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-labelledby="daily-heading daily-summary">
        <desc id="daily-summary">{`Bar chart of images per day; the table below lists the same figures. Highest day: ${max === 1 && total === 0 ? 0 : max}.`}</desc>
        {props.days.map((day, index) => {
          const barHeight = Math.round((day.images / max) * height);
          return (
            <rect key={day.date} class="bar" x={index * barWidth + 2} y={height - barHeight} width={barWidth - 4} height={Math.max(barHeight, day.images > 0 ? 2 : 0)}>
              <title>{`${day.date}: ${day.images} images`}</title>
            </rect>
          );
        })}
        <line class="axis" x1={0} x2={width} y1={height} y2={height} />
        <text class="axis-label" x={0} y={height + 16}>
          {props.days[0]?.date}
        </text>
        <text class="axis-label" x={width} y={height + 16} text-anchor="end">
          {props.days.at(-1)?.date}
        </text>
      </svg>
      <details>
        <summary>Figures per day</summary>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Images</th>
            </tr>
          </thead>
          <tbody>
            {props.days.map((day) => (
              <tr key={day.date}>
                <td>{day.date}</td>
                <td>{day.images}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function Limits(props: { limits: LimitUsage[] }) {
  return (
    <section class="card" aria-labelledby="limits-heading">
      <h2 id="limits-heading">Limits</h2>
      {props.limits.length === 0 ? (
        <p>No limits apply to this workspace or key: usage is unlimited.</p>
      ) : (
        <ul class="limits">
          {props.limits.map((limit) => {
            const id = `limit-${limit.scope}-${limit.name}`;
            return (
              <li key={id}>
                <label for={id}>
                  {LIMIT_LABELS[limit.name]} ({limit.scope === "key" ? "this key" : "workspace"}): {limit.remaining} of {limit.limit} left
                  {limit.resets_in_ms !== null ? `, resets in ${Math.ceil(limit.resets_in_ms / 1000)} s` : ""}
                </label>
                <meter id={id} min={0} max={limit.limit} value={limit.used} low={limit.limit * 0.7} high={limit.limit * 0.9} optimum={0} />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
