/** Small pieces the settings pages share: a page title, a confirmed action, a saved notice. */

import { Button, Group, Modal, Stack, Text, Title, type ButtonProps } from "@mantine/core";
import { useDisclosure, useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useRef, type ReactNode } from "react";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";

export function PageTitle({ title, description }: { title: string; description?: ReactNode }) {
  return (
    <Stack gap={4} mb="lg">
      <Title order={1} size="h2">
        {title}
      </Title>
      {description && <Text c="dimmed">{description}</Text>}
    </Stack>
  );
}

/** Tell the user something was done (announced by the notifications' live region). */
export function saved(message: string) {
  notifications.show({ message, color: "green", closeButtonProps: { "aria-label": "Dismiss" } });
}

/**
 * A button whose action runs only once confirmed in a dialog; the API's refusal is shown
 * in the dialog, which stays open.
 */
export function ConfirmButton({
  label,
  ariaLabel,
  title,
  children,
  confirmLabel,
  onConfirm,
  color = "red",
  ...button
}: {
  label: ReactNode;
  ariaLabel?: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  color?: string;
} & Omit<ButtonProps, "children" | "color">) {
  const [opened, { open, close }] = useDisclosure(false);
  const action = useSubmit(async () => {
    await onConfirm();
    close();
  });
  return (
    <>
      <Button variant="light" color={color} size="xs" {...button} aria-label={ariaLabel} onClick={open}>
        {label}
      </Button>
      <Modal
        opened={opened}
        onClose={() => {
          action.setError(null);
          close();
        }}
        title={title}
        centered
        closeButtonProps={{ "aria-label": "Close" }}
      >
        <Stack>
          <FormError error={action.error} />
          <div>{children}</div>
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button color={color} loading={action.busy} onClick={() => void action.run()} data-autofocus>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** A dialog for a form: full screen on a phone. */
export function FormModal({ opened, onClose, title, children }: { opened: boolean; onClose: () => void; title: string; children: ReactNode }) {
  const phone = useMediaQuery("(max-width: 36em)");
  const shown = useRef(title); // kept while the dialog closes (what it edited is gone by then)
  if (opened) shown.current = title;
  return (
    <Modal opened={opened} onClose={onClose} title={shown.current} fullScreen={phone} size="lg" closeButtonProps={{ "aria-label": "Close" }}>
      {children}
    </Modal>
  );
}

/** A settings form's buttons: cancel, and save (busy while it saves). */
export function FormActions({ onCancel, busy, save }: { onCancel: () => void; busy: boolean; save: string }) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={busy}>
        {save}
      </Button>
    </Group>
  );
}
