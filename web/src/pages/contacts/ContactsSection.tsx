/** The contacts section: the list, a contact, and the form to create or change one. */

import { Route, Routes } from "react-router-dom";
import { useAccount } from "../../lib/account";
import { NotFound } from "../NotFound";
import { ContactDetail } from "./ContactDetail";
import { ContactForm } from "./ContactForm";
import { ContactList } from "./ContactList";

export function ContactsSection() {
  const { can } = useAccount();
  if (!can("contacts:read")) return <NotFound what="page" />;
  return (
    <Routes>
      <Route index element={<ContactList />} />
      {can("contacts:write") && <Route path="new" element={<ContactForm />} />}
      <Route path=":contactId" element={<ContactDetail />} />
      {can("contacts:write") && <Route path=":contactId/edit" element={<ContactForm />} />}
      <Route path="*" element={<NotFound what="page" />} />
    </Routes>
  );
}
