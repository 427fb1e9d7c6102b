import { describe, expect, it } from "vitest";
import { contactBody, initialValues } from "./form";
import type { Contact, CustomField } from "./types";

function field(key: string, type: CustomField["type"], extra: Partial<CustomField> = {}): CustomField {
  return { id: key, entity: "contact", key, label: key, type, required: false, regex: null, options: [], position: 0, description: null, ...extra };
}

const DEFINITIONS = [
  field("plan", "single_select", { options: ["free", "pro"], required: true }),
  field("seats", "number"),
  field("vip", "boolean"),
  field("langs", "multi_select", { options: ["en", "fr"] }),
  field("renews", "date"),
];

const CONTACT: Contact = {
  id: "c1",
  name: "Ada",
  email: "ada@example.com",
  phone: null,
  company: "Engines",
  custom_fields: { plan: "free", seats: 3, langs: ["en"] },
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

describe("the contact form's body", () => {
  it("on creation sends what was filled in, typed, and the whole set of custom fields", () => {
    const values = initialValues(null, DEFINITIONS);
    values.name = " Ada ";
    values.email = "ada@example.com";
    values.custom.plan = "pro";
    values.custom.seats = 12;
    values.custom.renews = "2027-01-31";
    expect(contactBody(values, DEFINITIONS)).toEqual({
      name: "Ada",
      email: "ada@example.com",
      custom_fields: { plan: "pro", seats: 12, renews: "2027-01-31" },
    });
  });

  it("on a change sends only what differs, an emptied field as null", () => {
    const initial = initialValues(CONTACT, DEFINITIONS);
    const values = structuredClone(initial);
    values.company = "";
    values.custom.seats = "";
    values.custom.vip = true;
    expect(contactBody(values, DEFINITIONS, initial)).toEqual({ company: null, custom_fields: { seats: null, vip: true } });
  });

  it("sends nothing for an untouched form", () => {
    const initial = initialValues(CONTACT, DEFINITIONS);
    expect(contactBody(structuredClone(initial), DEFINITIONS, initial)).toEqual({});
  });

  it("reads stored values into the inputs", () => {
    const values = initialValues(CONTACT, DEFINITIONS);
    expect(values.custom).toEqual({ plan: "free", seats: 3, vip: false, langs: ["en"], renews: "" });
    expect(values.phone).toBe("");
  });
});
