import type { ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { RequirePermission } from '../../auth/RequireAuth';
import { NotFound } from '../certificates/NotFound';
import { CsrDetailPage, CsrsListPage, GenerateCsrPage, UploadCsrPage } from './CsrsPages';

const w = (el: ReactNode) => <RequirePermission permission="write:csrs">{el}</RequirePermission>;

/** The CSRs section: its own nested routes under /csrs/. */
export default function CsrsSection() {
  return (
    <Routes>
      <Route index element={<CsrsListPage />} />
      <Route path="new" element={w(<UploadCsrPage />)} />
      <Route path="generate" element={w(<GenerateCsrPage />)} />
      <Route path=":id" element={<CsrDetailPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
