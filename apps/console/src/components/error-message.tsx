import { ApiError } from "../api/client.js";

/** The API's own words for a failure, with the field it names. */
export function ErrorMessage(props: { error: unknown }) {
  if (!props.error) return null;
  const error = props.error;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const param = error instanceof ApiError ? error.param : null;
  return (
    <p class="error" role="alert">
      {message}
      {param ? <span class="error-param"> (field: {param})</span> : null}
    </p>
  );
}
