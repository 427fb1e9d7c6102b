import { Anchor, Center, Paper, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";

/** The signed-out pages' frame: the product's name and one card. */
export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <Center component="main" mih="100vh" p="md" bg="gray.0">
      <Stack w="100%" maw={420} gap="md">
        <Anchor component={Link} to="/" underline="never" ta="center" fw={700} fz="xl" c="blue.8">
          Turumba
        </Anchor>
        <Paper withBorder shadow="sm" p="xl" radius="md">
          <Title order={1} size="h2" mb="lg">
            {title}
          </Title>
          {children}
        </Paper>
        {footer && (
          <Text ta="center" size="sm" c="dimmed" component="div">
            {footer}
          </Text>
        )}
      </Stack>
    </Center>
  );
}
