import { Alert } from "@mantine/core";
import { describe, type ApiError } from "../api/errors";

/** The message of a failed submission, announced to screen readers. */
export function FormError({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" title="Not done" variant="light">
      {describe(error)}
    </Alert>
  );
}
