import { Alert, Button, Center, Loader } from "@mantine/core";
import type { ReactNode } from "react";
import { describe } from "../api/errors";

/** A screen's loading and error states, and its content once loaded. */
export function Status({
  ready,
  error,
  retry,
  children,
}: {
  /** Whether there is something to show (while a reload runs, the last data stays). */
  ready: boolean;
  error: unknown;
  retry?: () => void;
  children: ReactNode;
}) {
  if (error) {
    return (
      <Alert color="red" role="alert" title="Could not load">
        {describe(error)}
        {retry && (
          <Button variant="light" color="red" size="xs" ml="md" onClick={retry}>
            Try again
          </Button>
        )}
      </Alert>
    );
  }
  if (!ready) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  return <>{children}</>;
}
