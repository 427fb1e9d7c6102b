import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors";
import type { ActionType } from "./catalogue";
import fixture from "./catalogue.fixture.json";
import { chooseOneOf, chosenOneOf, cleanParams, depthOf, describeBranch, draftOf, emptyDraft, moved, paramKind, ruleErrors, type Rule } from "./rules";

const actions = fixture.actions as ActionType[];
const spec = (type: string) => actions.find((a) => a.type === type)!;
const refusal = (errors: Record<string, string[]>) => new ApiError(422, { code: "validation_failed", message: "Refused.", errors }, "");

describe("the API's refusals, next to what they concern", () => {
  it("sorts the rule's paths into fields, conditions and each action's parameters", () => {
    const sorted = ruleErrors(
      refusal({
        name: ["required"],
        events: ["give event names or a schedule (one of the two)"],
        "conditions/and/1/==/0/var": ["no field 'conversation.nope' in the evaluation context"],
        "actions/1/params/agent_id": ["not a member of this account"],
        "actions/2/type": ["one of assign_agent, …"],
        "actions/0/params": ["exactly one of agent_id, strategy"],
      }),
    );
    expect(sorted.name).toBe("required");
    expect(sorted.trigger).toContain("give event names");
    expect(sorted.conditions).toContain("no field 'conversation.nope'");
    expect(sorted.conditions).toContain("/and/1/==/0/var");
    expect(sorted.actions[1].params.agent_id).toBe("not a member of this account");
    expect(sorted.actions[2].action).toContain("one of assign_agent");
    expect(sorted.actions[0].action).toBe("exactly one of agent_id, strategy");
    expect(sorted.other).toBeUndefined();
  });

  it("reads the request schema's nested errors too, and keeps the list's own", () => {
    const sorted = ruleErrors(refusal({ "json.name": ["Shorter."], actions: ["at least one action is required"], schedule: ["bad"] }));
    expect(sorted.name).toBe("Shorter.");
    expect(sorted.actionList).toBe("at least one action is required");
    expect(sorted.trigger).toBe("bad");
    expect(ruleErrors(null)).toEqual({ actions: {} });
  });
});

describe("action parameters", () => {
  it("knows how every parameter of the catalogue is picked", () => {
    for (const action of actions) {
      for (const param of action.parameters) expect(paramKind(param.name), `${action.type}.${param.name}`).toBeTruthy();
    }
    expect(paramKind("agent_id")).toBe("member");
    expect(paramKind("team_id")).toBe("team");
    expect(paramKind("template_id")).toBe("template");
    expect(paramKind("policy_id")).toBe("policy");
  });

  it("sends only the chosen one of a pair, without empty values, minutes as a number", () => {
    const assign = spec("assign_agent");
    expect(cleanParams(assign, { agent_id: "u-1", strategy: "round_robin" }, "agent_id")).toEqual({ agent_id: "u-1" });
    expect(cleanParams(spec("snooze"), { minutes: "30" })).toEqual({ minutes: 30 });
    expect(cleanParams(spec("add_tag"), { tag: "" })).toEqual({});
  });

  it("switches between the parameters of a pair", () => {
    const send = spec("send_message");
    expect(chosenOneOf(send, {})).toBe("body");
    const switched = chooseOneOf(send, { body: "Hi" }, "template_id");
    expect(switched).toEqual({ template_id: "" });
    expect(chosenOneOf(send, switched)).toBe("template_id");
    expect(chosenOneOf(spec("add_tag"), {})).toBeUndefined();
  });

  it("moves an action, and leaves the list alone for a move out of it", () => {
    expect(moved(["a", "b", "c"], 0, 2)).toEqual(["b", "c", "a"]);
    expect(moved(["a", "b", "c"], 2, 1)).toEqual(["a", "c", "b"]);
    const list = ["a", "b"];
    expect(moved(list, 0, -1)).toBe(list);
    expect(moved(list, 1, 2)).toBe(list);
  });
});

describe("drafts", () => {
  it("keeps only what a version holds", () => {
    const rule = { ...emptyDraft(), name: "X", id: "r", version: 3, position: 0 } as unknown as Rule;
    const draft = draftOf(rule);
    expect(draft.name).toBe("X");
    expect("id" in draft).toBe(false);
    expect(emptyDraft().conditions).toBe(true);
  });
});

describe("a dry run's branches as sentences", () => {
  const labels = { "conversation.priority": "Priority", "contact.email": "Contact email", "contact.tags": "Contact tags", "=c-1": "Support" };
  it("says what each branch tests", () => {
    expect(describeBranch({ and: [] }, labels)).toBe("All of");
    expect(describeBranch({ or: [] }, labels)).toBe("Any of");
    expect(describeBranch({ "!": { and: [] } }, labels)).toBe("Not");
    expect(describeBranch({ "!": { var: "contact.email" } }, labels)).toBe("Contact email is empty");
    expect(describeBranch({ "==": [{ var: "conversation.priority" }, "high"] }, labels)).toBe("Priority equals high");
    expect(describeBranch({ "==": [{ var: "conversation.channel_id" }, "c-1"] }, labels)).toBe("conversation.channel_id equals Support");
    expect(describeBranch({ in: ["@example", { var: "contact.email" }] }, labels)).toBe("Contact email contains @example");
    expect(describeBranch({ in: [{ var: "conversation.priority" }, ["high", "urgent"]] }, labels)).toBe("Priority is one of high, urgent");
    expect(describeBranch({ some: [{ var: "contact.tags" }, { in: [{ var: "" }, ["vip"]] }] }, labels)).toBe("Contact tags has any of vip");
    expect(describeBranch({ within_last: [{ var: "x" }, 3, "days"] }, labels)).toBe("x is within the last 3 days");
    expect(describeBranch(true)).toBe("Always");
  });

  it("indents by depth", () => {
    expect(depthOf("/")).toBe(0);
    expect(depthOf("/and/1")).toBe(1);
    expect(depthOf("/and/1/or/0")).toBe(2);
  });
});
