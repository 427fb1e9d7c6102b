/**
 * `/automation/new` and `/automation/<rule id>`: the editor with the test panel, and for
 * a saved rule its versions and run log. The builder's configuration is made from the
 * server's catalogue and the account's lists once both are loaded.
 */

import { Alert, Button, Group, Modal, Tabs, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { BasicConfig } from "@react-awesome-query-builder/ui";
import { useMemo } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import { buildConfig } from "./catalogue";
import { withLabelledControls } from "./ConditionBuilder";
import { useCatalogue, useLists } from "./data";
import { RunLog, Versions } from "./History";
import { RuleEditor } from "./RuleEditor";
import { draftOf, emptyDraft, type Rule } from "./rules";

export function EditorPage() {
  const { ruleId } = useParams();
  const { url, base, can } = useAccount();
  const [confirming, confirm] = useDisclosure(false);
  const navigate = useNavigate();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const catalogue = useCatalogue();
  const lists = useLists();
  const rule = useResource(() => (ruleId ? api.get<Rule>(url(`/automation/rules/${ruleId}`)) : Promise.resolve(null)), [ruleId]);
  const config = useMemo(
    () => (catalogue.data && lists.data ? withLabelledControls(buildConfig(BasicConfig, catalogue.data, lists.data, lists.data.custom)) : null),
    [catalogue.data, lists.data],
  );
  const current = rule.data ?? null;
  const saved = (answer: Rule, message: string) => {
    if (!ruleId) {
      navigate(`${base}/automation/${answer.id}`, { replace: true, state: { notice: message } });
      return;
    }
    rule.setData(answer);
    navigate(location.pathname, { replace: true, state: { notice: message } });
  };
  const remove = useSubmit(async () => {
    await api.delete(url(`/automation/rules/${ruleId}`));
    navigate(`${base}/automation`);
  });
  const ready = catalogue.data !== undefined && lists.data !== undefined && rule.data !== undefined && config !== null;
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          {current ? current.name : "New rule"}
        </Title>
        <Group gap="md">
          {current && can("automation:write") && (
            <Button variant="subtle" color="red" onClick={confirm.open}>
              Delete rule
            </Button>
          )}
          <Link to={`${base}/automation`}>All rules</Link>
        </Group>
      </Group>
      <Modal opened={confirming} onClose={confirm.close} title="Delete this rule?">
        <Text size="sm" mb="md">
          The rule, its versions and its run log are deleted. To keep it, switch it off instead.
        </Text>
        <FormError error={remove.error} />
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={confirm.close}>
            Cancel
          </Button>
          <Button color="red.9" loading={remove.busy} onClick={() => void remove.run()}>
            Delete
          </Button>
        </Group>
      </Modal>
      {notice && (
        <Alert color="green" role="status" mb="md">
          {notice}
        </Alert>
      )}
      <Status ready={ready} error={catalogue.error ?? lists.error ?? rule.error} retry={() => void Promise.all([catalogue.reload(), lists.reload(), rule.reload()])}>
        {ready && (
          <Tabs defaultValue="design" keepMounted>
            <Tabs.List mb="md">
              <Tabs.Tab value="design">Design</Tabs.Tab>
              {current && <Tabs.Tab value="versions">Versions</Tabs.Tab>}
              {current && <Tabs.Tab value="runs">Run log</Tabs.Tab>}
            </Tabs.List>
            <Tabs.Panel value="design">
              <RuleEditor
                key={`${current?.id ?? "new"}:${current?.version ?? 0}`}
                catalogue={catalogue.data!}
                config={config!}
                lists={lists.data!}
                rule={current}
                initial={current ? draftOf(current) : emptyDraft()}
                onSaved={(answer) => saved(answer, `Saved as version ${answer.version}.`)}
              />
            </Tabs.Panel>
            {current && (
              <Tabs.Panel value="versions">
                <Versions rule={current} onRestored={(answer) => saved(answer, `Version restored as version ${answer.version}.`)} />
              </Tabs.Panel>
            )}
            {current && (
              <Tabs.Panel value="runs">
                <RunLog rule={current} />
              </Tabs.Panel>
            )}
          </Tabs>
        )}
      </Status>
    </>
  );
}
