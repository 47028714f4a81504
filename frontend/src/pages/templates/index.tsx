import type { ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { RequirePermission } from '../../auth/RequireAuth';
import { EditTemplatePage, NewTemplatePage, TemplateDetailPage, TemplatesListPage } from './TemplatesPages';

const w = (el: ReactNode) => <RequirePermission permission="write:templates">{el}</RequirePermission>;

/** The Templates section: its own nested routes under /templates/. */
export default function TemplatesSection() {
  return (
    <Routes>
      <Route index element={<TemplatesListPage />} />
      <Route path="new" element={w(<NewTemplatePage />)} />
      <Route path=":name" element={<TemplateDetailPage />} />
      <Route path=":name/edit" element={w(<EditTemplatePage />)} />
    </Routes>
  );
}
