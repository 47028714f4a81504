import type { ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { RequirePermission } from '../../auth/RequireAuth';
import { NotFound } from '../certificates/NotFound';
import { CaDetailPage } from './CaDetailPage';
import { CreateCaPage, ExternalCaPage, ImportCaPage } from './CaForms';
import { CasListPage } from './CasListPage';

const w = (el: ReactNode) => <RequirePermission permission="write:cas">{el}</RequirePermission>;

/** The Certificate authorities section: its own nested routes under /cas/. */
export default function CasSection() {
  return (
    <Routes>
      <Route index element={<CasListPage />} />
      <Route path="new" element={w(<CreateCaPage />)} />
      <Route path="import" element={w(<ImportCaPage />)} />
      <Route path="external" element={w(<ExternalCaPage />)} />
      <Route path=":id" element={<CaDetailPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
