//! Background activity: the ordinary work of Contoso's people, administrators and machines,
//! which no rule of the demo pack should flag.
//!
//! Every benign event starts from a [`Scene`] (who does something on which device), chosen by
//! the hour's share of people against machines, and then from a table drawn by a fixed mix.

mod artifacts;
pub(crate) mod identity;
pub(crate) mod process;
pub(crate) mod security;

use crate::demo::fields::{Actor, Fields};
use crate::demo::world::{Device, Role, User, World};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Who acts: a member of staff at their workstation, an administrator, or the machine itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// A member of staff at their own workstation.
    Staff,
    /// An administrator, mostly on servers.
    Admin,
    /// Services and scheduled work under system accounts.
    Machine,
}

/// The device an event happens on and the person behind it, if any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scene<'w> {
    /// Who acts.
    pub who: Who,
    /// The device.
    pub device: &'w Device,
    /// The person (staff or administrator); `None` for the machine.
    pub user: Option<&'w User>,
}

impl<'w> Scene<'w> {
    /// The account the person's processes run as, or SYSTEM.
    pub fn actor(&self) -> Actor<'w> {
        match self.user {
            Some(user) => Actor::of(user),
            None => crate::demo::fields::SYSTEM,
        }
    }
}

/// Everything a benign event generator needs.
pub(crate) struct Ctx<'a, 'w> {
    /// The organisation.
    pub world: &'w World,
    /// The random source.
    pub rng: &'a mut ChaCha8Rng,
    /// When the event happens (ns since the Unix epoch).
    pub time: i64,
    /// The `ReportId` of a Defender event.
    pub report: i64,
}

/// One benign record at `time`; `people` is the hour's share of user activity in thousandths.
pub(crate) fn event(
    world: &World,
    rng: &mut ChaCha8Rng,
    time: i64,
    people: u32,
    report: i64,
) -> Fields {
    let scene = scene(world, rng, people);
    let table = rng.random_range(0..1000u32);
    let mut ctx = Ctx {
        world,
        rng,
        time,
        report,
    };
    match table {
        0..300 => process::process_event(&mut ctx, &scene),
        300..550 => process::network_event(&mut ctx, &scene),
        550..700 => artifacts::file_event(&mut ctx, &scene),
        700..780 => artifacts::registry_event(&mut ctx, &scene),
        780..830 => identity::device_logon(&mut ctx, &scene),
        830..870 => artifacts::device_event(&mut ctx, &scene),
        870..955 => security::security_event(&mut ctx, &scene),
        _ => identity::signin(&mut ctx, &scene),
    }
}

/// Draws who acts on which device.
fn scene<'w>(world: &'w World, rng: &mut ChaCha8Rng, people: u32) -> Scene<'w> {
    if rng.random_range(0..1000) < people {
        if rng.random_range(0..100) < 6 {
            let user = &world.users[*pick(rng, &world.admins)];
            let device = if rng.random_range(0..10) < 7 {
                &world.devices[*pick(rng, &world.servers)]
            } else {
                &world.devices[*pick(rng, &world.workstations)]
            };
            return Scene {
                who: Who::Admin,
                device,
                user: Some(user),
            };
        }
        let device = &world.devices[*pick(rng, &world.workstations)];
        let user = device.user.map(|u| &world.users[u]);
        return Scene {
            who: Who::Staff,
            device,
            user,
        };
    }
    let device = if rng.random_range(0..100) < 15 {
        &world.devices[*pick(rng, &world.servers)]
    } else {
        &world.devices[*pick(rng, &world.workstations)]
    };
    Scene {
        who: Who::Machine,
        device,
        user: None,
    }
}

/// A uniformly chosen element of a non-empty slice.
pub(crate) fn pick<'s, T>(rng: &mut ChaCha8Rng, items: &'s [T]) -> &'s T {
    &items[rng.random_range(0..items.len())]
}

/// A plausible Windows process id (a multiple of four).
pub(crate) fn pid(rng: &mut ChaCha8Rng) -> i64 {
    rng.random_range(100..16_000i64) * 4
}

/// A random GUID.
pub(crate) fn guid(rng: &mut ChaCha8Rng) -> String {
    crate::demo::world::format_guid(rng.random(), rng.random())
}

/// Whether `device` is a server.
pub(crate) fn is_server(device: &Device) -> bool {
    device.role != Role::Workstation
}
