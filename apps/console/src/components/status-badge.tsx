/** A job's or batch's status as a word with a colour that is never the only cue. */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status.replace(/_/g, "-")}`}>{props.status.replace(/_/g, " ")}</span>;
}
