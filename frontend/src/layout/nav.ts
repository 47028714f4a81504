import {
  IconCertificate,
  IconFileCertificate,
  IconFileDescription,
  IconGauge,
  IconListDetails,
  IconSettings,
  IconShieldLock,
  IconTemplate,
  IconTool,
  IconUsers,
  type Icon,
} from '@tabler/icons-react';

export interface NavItem {
  to: string;
  label: string;
  icon: Icon;
  /** Hidden unless the user holds this permission. */
  permission?: string;
}

/** Every section of the navbar, in order. */
export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: IconGauge, permission: 'read:certificates' },
  { to: '/certificates', label: 'Certificates', icon: IconCertificate, permission: 'read:certificates' },
  { to: '/cas', label: 'Certificate authorities', icon: IconShieldLock, permission: 'read:cas' },
  { to: '/csrs', label: 'Signing requests', icon: IconFileDescription, permission: 'read:csrs' },
  { to: '/templates', label: 'Templates', icon: IconTemplate, permission: 'read:templates' },
  { to: '/users', label: 'Users', icon: IconUsers, permission: 'read:users' },
  { to: '/roles', label: 'Roles', icon: IconFileCertificate, permission: 'read:roles' },
  { to: '/audit', label: 'Audit log', icon: IconListDetails, permission: 'read:audit' },
  { to: '/settings', label: 'Settings', icon: IconSettings, permission: 'read:settings' },
  { to: '/tools', label: 'Tools', icon: IconTool, permission: 'read:certificates' },
];
