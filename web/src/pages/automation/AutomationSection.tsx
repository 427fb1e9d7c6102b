/** The automation designer: the rule list, and the editor of a new or saved rule. */

import { Route, Routes } from "react-router-dom";
import { NotFound } from "../NotFound";
import { EditorPage } from "./EditorPage";
import { RuleList } from "./RuleList";

export function AutomationSection() {
  return (
    <Routes>
      <Route index element={<RuleList />} />
      <Route path="new" element={<EditorPage />} />
      <Route path=":ruleId" element={<EditorPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
