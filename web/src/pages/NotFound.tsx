import { Button, Center, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

export function NotFound({ what = "page" }: { what?: string }) {
  return (
    <Center component="main" mih="60vh">
      <Stack align="center">
        <Title order={1} size="h2">
          No such {what}
        </Title>
        <Text c="dimmed">It may have been removed, or you may not have access to it.</Text>
        <Button component={Link} to="/">
          Go to your dashboard
        </Button>
      </Stack>
    </Center>
  );
}
