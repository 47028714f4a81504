import { Route, Routes } from 'react-router';
import { TemplatesListPage } from './TemplatesListPage';

/** The Templates section: its own nested routes under /templates/. */
export default function TemplatesSection() {
  return (
    <Routes>
      <Route index element={<TemplatesListPage />} />
      <Route path="*" element={<TemplatesListPage />} />
    </Routes>
  );
}
